package service

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"ecardgw/gateway/ledger"
	"ecardgw/gateway/logging"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// feeRequest pays a network or electricity fee from the campus account.
type feeRequest struct {
	RequestID string `json:"request_id"`
	Account   string `json:"account"`
	Type      string `json:"type"`
	Target    string `json:"target"`
	AmountFen int64  `json:"amount_fen"`
}

type feeResponse struct {
	RequestID  string `json:"request_id"`
	Account    string `json:"account"`
	Type       string `json:"type"`
	Target     string `json:"target"`
	AmountFen  int64  `json:"amount_fen"`
	BalanceFen int64  `json:"balance_fen"`
	Seq        uint64 `json:"seq"`
	Time       string `json:"time"`
}

const maxRequestID = 64

// feePrefix is the target prefix of each fee type (the kiosk's field 63).
var feePrefix = map[string]string{"net": "NET:", "elec": "ELEC:"}

func (q *feeRequest) validate(maxFen int64) (uint64, error) {
	if !printable(q.RequestID, maxRequestID) {
		return 0, badRequest("request_id must be 1 to 64 printable characters without spaces")
	}
	no, err := parseAccount("account", q.Account)
	if err != nil {
		return 0, err
	}
	prefix, ok := feePrefix[q.Type]
	if !ok {
		return 0, badRequest(`type must be "net" or "elec"`)
	}
	if !strings.HasPrefix(q.Target, prefix) || !txn.ValidFeeTarget(q.Target) {
		return 0, badRequest(`target must be "NET:<account digits>" for net or "ELEC:<building>-<room>" for elec`)
	}
	if err := checkAmount(q.AmountFen, maxFen); err != nil {
		return 0, err
	}
	return no, nil
}

// payFee: POST /v1/fees. Debits the account and journals a fee record for
// the utility (the target is in the record's note, as at the kiosk).
// Idempotent by request_id like a top-up; a refusal is remembered too.
func (s *Server) payFee(w http.ResponseWriter, r *http.Request) (*reply, error) {
	var q feeRequest
	if err := s.decodeJSON(w, r, &q); err != nil {
		return nil, err
	}
	no, err := q.validate(s.opts.TopUpMaxFen)
	if err != nil {
		return nil, err
	}
	dig := digest(strconv.FormatUint(no, 10), q.Type, q.Target, strconv.FormatInt(q.AmountFen, 10))
	now := s.opts.Now().UTC()
	var (
		rep  *reply
		fail *apiError
	)
	err = s.db.Update(r.Context(), func(tx *store.Tx) error {
		rep, fail = nil, nil
		var err error
		if rep, err = recall(tx, kindFee, q.RequestID, dig); err != nil || rep != nil {
			return settle(err, &fail)
		}
		rec := store.Record{Kind: store.KindFee, ProcCode: txn.PCFee, Channel: store.ChannelCampus,
			Amount: q.AmountFen, Note: q.Target}
		a, ok, err := tx.Account(no)
		if err != nil {
			return err
		}
		if !ok {
			rec.Resp = string(txn.RCUnknownCard)
			rep, err = s.refuse(tx, kindFee, q.RequestID, dig, &rec, now, notFound("no such account"))
			return err
		}
		rec.Account, rec.CardMasked, rec.BalanceAfter = a.No, logging.MaskPAN(a.CardNumber), a.BalanceFen
		if lerr := ledger.Spend(&a, q.AmountFen, 0, now); lerr != nil {
			rec.Resp = ledger.Code(lerr)
			rep, err = s.refuse(tx, kindFee, q.RequestID, dig, &rec, now, ledgerRefusal(lerr, &a))
			return err
		}
		if err := tx.PutAccount(&a); err != nil {
			return err
		}
		rec.Resp, rec.BalanceAfter = string(txn.RCApproved), a.BalanceFen
		seq, err := s.journal(tx, &rec, now)
		if err != nil {
			return err
		}
		rep, err = remember(tx, kindFee, q.RequestID, dig, http.StatusOK, feeResponse{
			RequestID: q.RequestID, Account: strconv.FormatUint(no, 10), Type: q.Type, Target: q.Target,
			AmountFen: q.AmountFen, BalanceFen: a.BalanceFen, Seq: seq, Time: rfc3339(now)}, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if fail != nil {
		return nil, fail
	}
	s.log.Info("service fee", "account", no, "amount_fen", q.AmountFen, "type", q.Type,
		"status", rep.status, "replayed", rep.replayed)
	return rep, nil
}

// ledgerRefusal is the API error of a ledger refusal (gateway/ledger: the
// same rules a terminal's request obeys).
func ledgerRefusal(err error, a *store.Account) *apiError {
	switch {
	case errors.Is(err, ledger.ErrLost):
		return unprocessable(CodeFrozen, "the card was reported lost")
	case errors.Is(err, ledger.ErrFrozen):
		return unprocessable(CodeFrozen, "the account is "+a.Status.String())
	case errors.Is(err, ledger.ErrInsufficient):
		return unprocessable(CodeInsufficient, "the balance does not cover the amount")
	case errors.Is(err, ledger.ErrOverflow):
		return unprocessable(CodeLimit, "the balance would pass its limit of 999999999999 fen")
	}
	return unprocessable(CodeLimit, err.Error())
}

// checkAmount refuses an amount outside 1..maxFen fen (422 limit).
func checkAmount(fen, maxFen int64) error {
	if fen <= 0 || fen > maxFen {
		return unprocessable(CodeLimit, "amount_fen must be from 1 to "+strconv.FormatInt(maxFen, 10))
	}
	return nil
}
