package service

import (
	"net/http"
	"strconv"

	"ecardgw/gateway/logging"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

type lossResponse struct {
	Account          string `json:"account"`
	Status           string `json:"status"`
	Card             string `json:"card,omitempty"`
	BlacklistVersion uint32 `json:"blacklist_version"`
	Changed          bool   `json:"changed"`
	Seq              uint64 `json:"seq,omitempty"`
}

// reportLoss: POST /v1/accounts/{account}/loss.
func (s *Server) reportLoss(w http.ResponseWriter, r *http.Request) (*reply, error) {
	return s.setLost(r, true)
}

// cancelLoss: DELETE /v1/accounts/{account}/loss.
func (s *Server) cancelLoss(w http.ResponseWriter, r *http.Request) (*reply, error) {
	return s.setLost(r, false)
}

// setLost marks the account lost (active -> lost) or found again (lost ->
// active), and puts its card on the blacklist or takes it off, in one
// store transaction with the journal record. Once that commits the engine
// declines the card 41 (it reads the account inside each purchase's own
// transaction); OnBlacklist then makes answers to terminals holding an
// older list ask them to download it. Asking again for the state the
// account is already in changes nothing and answers the current state.
func (s *Server) setLost(r *http.Request, lost bool) (*reply, error) {
	no, err := parseAccount("account", r.PathValue("account"))
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	from, to, kind := store.StatusActive, store.StatusLost, store.KindLoss
	if !lost {
		from, to, kind = store.StatusLost, store.StatusActive, store.KindLossCancel
	}
	var (
		resp lossResponse
		fail *apiError
	)
	err = s.db.Update(r.Context(), func(tx *store.Tx) error {
		resp, fail = lossResponse{Account: strconv.FormatUint(no, 10)}, nil
		a, ok, err := tx.Account(no)
		if err != nil {
			return err
		}
		if !ok {
			fail = notFound("no such account")
			return nil
		}
		resp.Card = logging.MaskPAN(a.CardNumber)
		if resp.BlacklistVersion, err = tx.BlacklistVersion(); err != nil {
			return err
		}
		switch a.Status {
		case to:
			resp.Status = a.Status.String()
			return nil
		case from:
		default:
			// A frozen or cancelled account is declined everywhere already;
			// making it lost (or active) would undo that block.
			fail = unprocessable(CodeFrozen, "the account is "+a.Status.String())
			return nil
		}
		a.Status, a.Updated = to, now
		if err := tx.PutAccount(&a); err != nil {
			return err
		}
		if a.CardNumber != "" {
			if resp.BlacklistVersion, err = tx.BlacklistAdd(a.CardNumber, lost, now); err != nil {
				return err
			}
		}
		resp.Status, resp.Changed = to.String(), true
		resp.Seq, err = s.journal(tx, &store.Record{Kind: kind, Account: a.No, CardMasked: resp.Card,
			Resp: string(txn.RCApproved), BalanceAfter: a.BalanceFen,
			Note: "blacklist version " + strconv.FormatUint(uint64(resp.BlacklistVersion), 10)}, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if fail != nil {
		return nil, fail
	}
	if resp.Changed && s.opts.OnBlacklist != nil {
		s.opts.OnBlacklist(resp.BlacklistVersion)
	}
	s.log.Info("service "+string(kind), "account", no, "changed", resp.Changed, "blacklist_version", resp.BlacklistVersion)
	return okJSON(resp)
}
