package txn

import (
	"bytes"
	"context"

	"ecardgw/gateway/campuscode"
	"ecardgw/store"
)

// Scanned codes (entry mode 031, field 62): a campus code is verified and
// claimed before the store transaction and charged to its account in it;
// a payment code goes to its channel (payments.go).
//
// A campus code is used once, on any terminal: it is verified offline
// (preverify), claimed in the record shared with the other campuses
// (claimShared), in connected mode claimed locally before the centre is
// asked (claimCode), and in the transaction checked against the local
// replay record (scannedPayer) and recorded as used when approved
// (consumeCode).

var campusPrefix = []byte("CC1:")

// ClassifyCode says what a scanned text is: store.ChannelCampus for a
// campus code, a third-party channel for a payment code, "" for anything
// else (P3).
//
// WeChat Pay: 18 digits starting 10–15; Alipay: 16–24 digits starting
// 25–30; UnionPay QR: 19 digits starting 62.
func ClassifyCode(text []byte) store.Channel {
	if bytes.HasPrefix(text, campusPrefix) {
		return store.ChannelCampus
	}
	n := len(text)
	if n < 16 || n > 24 {
		return ""
	}
	for _, ch := range text {
		if ch < '0' || ch > '9' {
			return ""
		}
	}
	p := int(text[0]-'0')*10 + int(text[1]-'0')
	switch {
	case n == 18 && p >= 10 && p <= 15:
		return store.ChannelWeChat
	case n == 19 && p == 62:
		return store.ChannelUnionPay
	case p >= 25 && p <= 30:
		return store.ChannelAlipay
	}
	return ""
}

// scanned returns the scanned text of an entry-mode-031 request.
func (c *call) scanned() []byte {
	if c.entryMode() != entryCode || !c.w.req.Has(62) {
		return nil
	}
	return c.w.req.Bytes(62)
}

// unknownCode reports whether the request was scanned (entry mode 031)
// and its text is no code the gateway knows: the rules answer P3 (in
// connected mode too, without asking the centre).
func (c *call) unknownCode() bool {
	return c.entryMode() == entryCode && ClassifyCode(c.w.req.Bytes(62)) == ""
}

// thirdPartyCode returns the channel when the request pays with a
// third-party payment code.
func (c *call) thirdPartyCode() store.Channel {
	t := c.scanned()
	if t == nil {
		return ""
	}
	if ch := ClassifyCode(t); ch.ThirdParty() {
		return ch
	}
	return ""
}

// preverified is a campus code checked before the store transaction:
// signature checks are the expensive part and need no store.
type preverified struct {
	res campuscode.Result
	err error
	by  *campuscode.Verifier // the verifier that checked it (a reload may replace the engine's)
}

// preverify runs the offline verification of a scanned campus code.
func (e *Engine) preverify(c *call) {
	v := e.live.Load().campus
	if v == nil {
		return
	}
	t := c.scanned()
	if t == nil || !bytes.HasPrefix(t, campusPrefix) {
		return
	}
	res, err := v.Verify(t, c.now)
	c.code = &preverified{res: res, err: err, by: v}
}

// SharedReplay is the campus-code replay record shared between the
// gateways of several campuses (a JetStream key-value bucket): Claim is
// true for the first claimant of a code anywhere.
type SharedReplay interface {
	Claim(ctx context.Context, account uint64, genAt uint32, counter uint16) (bool, error)
}

// claimShared claims a verified campus code in the shared record before
// anything is decided, so that a code used at one campus is refused at the
// other. A retransmission is answered from the idempotency record first
// (it claimed the code the first time). When the shared record cannot be
// reached the local record still refuses replays at this gateway.
func (e *Engine) claimShared(ctx context.Context, c *call) ([]byte, bool) {
	if e.shared == nil || c.code == nil || c.code.err != nil {
		return nil, false
	}
	if ans, ok := e.storedAnswer(c); ok {
		return ans, true
	}
	r := c.code.res
	ok, err := e.shared.Claim(ctx, r.Account, r.GeneratedAt, r.Counter)
	switch {
	case err != nil:
		e.log.Warn("shared campus-code replay record unreachable: refusing replays at this gateway only", "err", err)
	case !ok:
		c.code.err = campuscode.ErrReplay
	}
	return nil, false
}

// claimCode records the campus code as used before the centre is asked
// (connected mode), so that two terminals cannot both have it authorized.
func (e *Engine) claimCode(ctx context.Context, c *call) bool {
	r := c.code.res
	claimed := false
	err := e.db.Update(ctx, func(tx *store.Tx) error {
		seen, err := tx.ReplaySeen(r.Account, r.GeneratedAt, r.Counter)
		if err != nil || seen {
			claimed = false
			return err
		}
		claimed = true
		return tx.PutReplay(r.Account, r.GeneratedAt, r.Counter, c.code.by.Expiry(r))
	})
	if err != nil {
		return false
	}
	c.codeClaimed = claimed
	return claimed
}

// scannedPayer resolves a campus code to its account (the code was
// verified before the store transaction; here are the replay record and
// the account rules, which must be decided in the transaction).
func (c *call) scannedPayer() (store.Account, bool, error) {
	text := c.scanned()
	if text == nil {
		c.decline(RCFormat)
		return store.Account{}, false, nil
	}
	if ClassifyCode(text) != store.ChannelCampus {
		c.decline(RCUnknownCode)
		return store.Account{}, false, nil
	}
	c.channel = store.ChannelCampus
	pre := c.code
	if pre == nil {
		c.declineWhy(RCNotAllowed, "campus codes are not enabled (no campuscode.issuers)")
		return store.Account{}, false, nil
	}
	if pre.err != nil {
		c.codeReason = campuscode.Reason(pre.err)
		c.decline(RC(campuscode.ResponseCode(pre.err)))
		return store.Account{}, false, nil
	}
	res := pre.res
	c.rec.Account = res.Account
	a, ok, err := c.tx.Account(res.Account)
	if err != nil {
		return a, false, err
	}
	if !ok {
		c.decline(RCUnknownCard)
		return a, false, nil
	}
	switch {
	case a.Status == store.StatusLost && c.e.live.Load().lossBlocksCode:
		c.decline(RCLost)
		return a, false, nil
	case a.Status == store.StatusFrozen || a.Status == store.StatusCancelled:
		c.decline(RCFrozen)
		return a, false, nil
	case !a.ECardActive:
		c.codeReason = "inactive"
		c.decline(RCInactive)
		return a, false, nil
	}
	// Replay: the same (account, generated-at, counter) is accepted once,
	// on any terminal. A retransmission never gets here (idempotency).
	seen, err := c.tx.ReplaySeen(res.Account, res.GeneratedAt, res.Counter)
	if err != nil {
		return a, false, err
	}
	if seen && !c.codeClaimed {
		c.codeReason = "replay"
		c.decline(RCReplay)
		return a, false, nil
	}
	c.codeReason = "ok"
	return a, true, nil
}

// consumeCode records an approved request's campus code as used, so that
// the same code is refused everywhere from now on. A declined request does
// not use up the code.
func (c *call) consumeCode() error {
	if c.readOnly || c.codeClaimed || c.code == nil || c.code.err != nil || c.codeReason != "ok" {
		return nil
	}
	r := c.code.res
	return c.tx.PutReplay(r.Account, r.GeneratedAt, r.Counter, c.code.by.Expiry(r))
}
