package service

import (
	"context"
	"net/http"
	"strconv"
	"unicode/utf8"

	"ecardgw/gateway/ledger"
	"ecardgw/gateway/logging"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// topUpRequest credits an account after the channel confirmed the payment.
// The account is named by exactly one of: account, card_number, or name
// with staff_no (the Alipay campus top-up asks the payer for those).
type topUpRequest struct {
	TradeNo    string `json:"trade_no"`
	Channel    string `json:"channel"`
	AmountFen  int64  `json:"amount_fen"`
	Account    string `json:"account,omitempty"`
	CardNumber string `json:"card_number,omitempty"`
	Name       string `json:"name,omitempty"`
	StaffNo    string `json:"staff_no,omitempty"`
}

type topUpResponse struct {
	TradeNo    string `json:"trade_no"`
	Channel    string `json:"channel"`
	Account    string `json:"account"`
	AmountFen  int64  `json:"amount_fen"`
	BalanceFen int64  `json:"balance_fen"`
	Seq        uint64 `json:"seq"`
	Time       string `json:"time"`
}

// Request field bounds.
const (
	maxTradeNo = 64 // Alipay's trade_no; WeChat's are shorter
	maxName    = 30 // the accounts file's rule
	maxStaffNo = 16
)

// channels maps the API's channel names to the journal's.
var channels = map[string]store.Channel{"wechat": store.ChannelWeChat, "alipay": store.ChannelAlipay}

// payee is who a top-up is for, validated.
type payee struct {
	account   uint64
	card      string
	name, stf string
}

func (p payee) find(tx *store.Tx) (store.Account, bool, error) {
	switch {
	case p.account != 0:
		return tx.Account(p.account)
	case p.card != "":
		return tx.AccountByCard(p.card)
	}
	return tx.AccountByNameStaff(p.name, p.stf)
}

func (q *topUpRequest) validate(maxFen int64) (payee, error) {
	var p payee
	if !printable(q.TradeNo, maxTradeNo) {
		return p, badRequest("trade_no must be 1 to 64 printable characters without spaces")
	}
	if _, ok := channels[q.Channel]; !ok {
		return p, badRequest(`channel must be "wechat" or "alipay"`)
	}
	named := 0
	if q.Account != "" {
		named++
		n, err := parseAccount("account", q.Account)
		if err != nil {
			return p, err
		}
		p.account = n
	}
	if q.CardNumber != "" {
		named++
		if len(q.CardNumber) != 12 || !allDigits(q.CardNumber) {
			return p, badRequest("card_number must be 12 digits")
		}
		p.card = q.CardNumber
	}
	if q.Name != "" || q.StaffNo != "" {
		named++
		if q.Name == "" || q.StaffNo == "" {
			return p, badRequest("name and staff_no go together")
		}
		if len(q.Name) > maxName || !utf8.ValidString(q.Name) {
			return p, badRequest("name must be UTF-8 of at most 30 bytes")
		}
		if !printable(q.StaffNo, maxStaffNo) {
			return p, badRequest("staff_no must be 1 to 16 printable characters")
		}
		p.name, p.stf = q.Name, q.StaffNo
	}
	if named != 1 {
		return p, badRequest("name the account by exactly one of: account, card_number, or name with staff_no")
	}
	if err := checkAmount(q.AmountFen, maxFen); err != nil {
		return p, err
	}
	return p, nil
}

// topUp: POST /v1/topups. Idempotent by trade_no: the same request again
// gets the first answer (marked Idempotent-Replayed) and credits nothing;
// the same trade_no with other fields is 409 conflict. A refusal (unknown
// or frozen account) is remembered too, because the caller refunds the
// channel payment on it and a later retry must not credit it after all.
func (s *Server) topUp(w http.ResponseWriter, r *http.Request) (*reply, error) {
	var q topUpRequest
	if err := s.decodeJSON(w, r, &q); err != nil {
		return nil, err
	}
	return s.applyTopUp(r.Context(), &q)
}

// applyTopUp credits a validated-here top-up request once by trade_no: the
// service API's POST /v1/topups and the channels' notifications
// (notify.go) both come here.
func (s *Server) applyTopUp(ctx context.Context, q *topUpRequest) (*reply, error) {
	p, err := q.validate(s.opts.TopUpMaxFen)
	if err != nil {
		return nil, err
	}
	dig := digest(q.Channel, strconv.FormatInt(q.AmountFen, 10), strconv.FormatUint(p.account, 10), p.card, p.name, p.stf)
	now := s.opts.Now().UTC()
	var (
		rep  *reply
		fail *apiError
		acct uint64
	)
	err = s.db.Update(ctx, func(tx *store.Tx) error {
		rep, fail, acct = nil, nil, 0
		var err error
		if rep, err = recall(tx, kindTopUp, q.TradeNo, dig); err != nil || rep != nil {
			return settle(err, &fail)
		}
		rec := store.Record{Kind: store.KindTopUp, ProcCode: txn.PCTopUp, Channel: channels[q.Channel],
			Amount: q.AmountFen, Note: "channel trade " + q.TradeNo}
		a, ok, err := p.find(tx)
		if err != nil {
			return err
		}
		if !ok {
			rec.Resp = string(txn.RCUnknownCard)
			rep, err = s.refuse(tx, kindTopUp, q.TradeNo, dig, &rec, now, notFound("no such account"))
			return err
		}
		acct = a.No
		rec.Account, rec.CardMasked, rec.BalanceAfter = a.No, logging.MaskPAN(a.CardNumber), a.BalanceFen
		// A lost card does not stop a top-up: the money is the person's.
		if lerr := ledger.Receive(&a, q.AmountFen, now); lerr != nil {
			rec.Resp = ledger.Code(lerr)
			rep, err = s.refuse(tx, kindTopUp, q.TradeNo, dig, &rec, now, ledgerRefusal(lerr, &a))
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
		rep, err = remember(tx, kindTopUp, q.TradeNo, dig, http.StatusOK, topUpResponse{
			TradeNo: q.TradeNo, Channel: q.Channel, Account: strconv.FormatUint(a.No, 10),
			AmountFen: q.AmountFen, BalanceFen: a.BalanceFen, Seq: seq, Time: rfc3339(now)}, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if fail != nil {
		return nil, fail
	}
	s.log.Info("service top-up", "account", acct, "amount_fen", q.AmountFen, "channel", q.Channel,
		"status", rep.status, "replayed", rep.replayed)
	return rep, nil
}
