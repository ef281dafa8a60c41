package service

import (
	"math"
	"net/http"
	"strconv"

	"ecardgw/gateway/logging"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

type accountResponse struct {
	Account          string `json:"account"`
	Name             string `json:"name"`
	Status           string `json:"status"`
	BalanceFen       int64  `json:"balance_fen"`
	Card             string `json:"card,omitempty"` // masked
	ECardActive      bool   `json:"ecard_active"`
	WalletBalanceFen int64  `json:"wallet_balance_fen"`
	Updated          string `json:"updated,omitempty"`
}

// getAccount: GET /v1/accounts/{account}.
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) (*reply, error) {
	no, err := parseAccount("account", r.PathValue("account"))
	if err != nil {
		return nil, err
	}
	var (
		a  store.Account
		ok bool
	)
	if err := s.db.View(func(tx *store.Tx) error {
		a, ok, err = tx.Account(no)
		return err
	}); err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("no such account")
	}
	resp := accountResponse{Account: strconv.FormatUint(a.No, 10), Name: a.Name, Status: a.Status.String(),
		BalanceFen: a.BalanceFen, Card: logging.MaskPAN(a.CardNumber), ECardActive: a.ECardActive,
		WalletBalanceFen: a.Wallet.Balance}
	if !a.Updated.IsZero() {
		resp.Updated = rfc3339(a.Updated)
	}
	return okJSON(resp)
}

type historyRecord struct {
	Seq             uint64 `json:"seq"`
	Time            string `json:"time"`
	Kind            string `json:"kind"`
	AmountFen       int64  `json:"amount_fen"`
	BalanceAfterFen int64  `json:"balance_after_fen"`
	Channel         string `json:"channel,omitempty"`
	Terminal        string `json:"terminal"`
	Location        string `json:"location,omitempty"`
	Resp            string `json:"resp"`
	Card            string `json:"card,omitempty"`   // masked, as journaled
	Target          string `json:"target,omitempty"` // fee payments
}

type historyResponse struct {
	Account    string          `json:"account"`
	Records    []historyRecord `json:"records"`
	NextBefore uint64          `json:"next_before,omitempty"`
}

// History paging bounds. maxScan bounds the records read for one page:
// inquiries and declines are journaled too, and a page must not read an
// unbounded run of them; the cursor then resumes where the scan stopped.
const (
	defaultHistory = 20
	maxHistory     = 100
	maxScan        = 2000
)

// history: GET /v1/accounts/{account}/history?limit=&before=. Approved
// money movements, newest first; next_before is the cursor of the next
// (older) page, absent on the last one.
func (s *Server) history(w http.ResponseWriter, r *http.Request) (*reply, error) {
	no, err := parseAccount("account", r.PathValue("account"))
	if err != nil {
		return nil, err
	}
	const wantLimit = "an integer from 1 to 100"
	limit, err := queryUint(r, "limit", defaultHistory, maxHistory, wantLimit)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		return nil, badRequest("query parameter limit must be " + wantLimit)
	}
	before, err := queryUint(r, "before", 0, math.MaxInt64, "a journal sequence number (next_before of the previous page)")
	if err != nil {
		return nil, err
	}
	resp := historyResponse{Account: strconv.FormatUint(no, 10), Records: []historyRecord{}}
	var found bool
	err = s.db.View(func(tx *store.Tx) error {
		resp.Records, resp.NextBefore = resp.Records[:0], 0
		if _, found, err = tx.Account(no); err != nil || !found {
			return err
		}
		scanned, last := 0, uint64(0)
		more, err := tx.AccountJournal(no, before, func(rec *store.Record) (bool, error) {
			scanned++
			last = rec.Seq
			if txn.MovesMoney(rec) {
				resp.Records = append(resp.Records, historyOf(rec))
			}
			return len(resp.Records) < int(limit) && scanned < maxScan, nil
		})
		if more {
			resp.NextBefore = last
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("no such account")
	}
	return okJSON(resp)
}

func historyOf(r *store.Record) historyRecord {
	h := historyRecord{Seq: r.Seq, Time: rfc3339(r.Time), Kind: string(r.Kind), AmountFen: r.Amount,
		BalanceAfterFen: r.BalanceAfter, Channel: string(r.Channel), Terminal: r.Key.Terminal,
		Location: r.Location, Resp: r.Resp, Card: r.CardMasked}
	if r.Kind == store.KindFee {
		h.Target = r.Note
	}
	return h
}
