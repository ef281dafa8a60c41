package txn

import (
	"ecardgw/gateway/ledger"
	"ecardgw/gateway/logging"
	"ecardgw/store"
	"errors"
)

// Who pays and how much: the rules every financial request applies to the
// card in field 2, the amount in field 4 and the entry mode in field 22.

// Entry modes (field 22, left-aligned n3 read as a number).
const (
	entryCard = 71 // "071" contactless chip card
	entryCode = 31 // "031" scanned code
)

// entryMode reads field 22 (071 card, 031 scanned code).
func (c *call) entryMode() uint64 {
	v, err := c.w.req.Uint(22)
	if err != nil {
		return 0
	}
	return v
}

// payer resolves who pays for a purchase or inquiry: the card in field 2
// (entry mode 071) or the scanned code in field 62 (031). ok is false when
// the request was declined (c.rc set) or is handled elsewhere (third party).
func (c *call) payer() (store.Account, bool, error) {
	switch c.entryMode() {
	case entryCard:
		return c.cardAccount()
	case entryCode:
		return c.scannedPayer()
	}
	c.decline(RCFormat)
	return store.Account{}, false, nil
}

// cardAccount finds the account of the card in field 2 and applies the
// card rules: unknown 14, lost 41, frozen or cancelled 62.
func (c *call) cardAccount() (store.Account, bool, error) {
	req := &c.w.req
	if !req.Has(2) {
		c.decline(RCFormat)
		return store.Account{}, false, nil
	}
	c.w.tmp = req.AppendDigits(c.w.tmp[:0], 2)
	c.rec.CardMasked = maskCard(c.w.tmp)
	a, ok, err := c.tx.AccountByCard(string(c.w.tmp))
	if err != nil {
		return a, false, err
	}
	if !ok {
		c.decline(RCUnknownCard)
		return a, false, nil
	}
	c.rec.Account = a.No
	switch a.Status {
	case store.StatusActive:
	case store.StatusLost:
		c.decline(RCLost)
		return a, false, nil
	default:
		c.decline(RCFrozen)
		return a, false, nil
	}
	return a, true, nil
}

// refused declines the request with the response code of a ledger
// refusal (gateway/ledger); it reports whether there was one.
func (c *call) refused(err error) bool {
	if err == nil {
		return false
	}
	rc := knownRC([]byte(ledger.Code(err)))
	switch {
	case errors.Is(err, ledger.ErrOverLimit):
		c.declineWhy(rc, "limits.daily_fen")
	case errors.Is(err, ledger.ErrOverflow):
		c.declineWhy(rc, "the balance would pass 999999999999 fen")
	default:
		c.decline(rc)
	}
	return true
}

// amount reads field 4: zero or above the single-transaction ceiling is 13.
func (c *call) amount(max int64) (int64, bool) {
	v, err := c.w.req.Amount()
	if err != nil {
		c.decline(RCFormat)
		return 0, false
	}
	c.rec.Amount = v
	if v <= 0 || (max > 0 && v > max) {
		c.decline(RCBadAmount)
		return v, false
	}
	return v, true
}

// maskCard masks a card number for the journal and logs.
func maskCard(digits []byte) string { return logging.MaskPAN(string(digits)) }
