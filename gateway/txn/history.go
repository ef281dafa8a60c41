package txn

import "ecardgw/store"

// history: 0100/300000, the last 10 money movements of the card's account
// as binary records in field 62 (layout in docs/protocol.md): count (1),
// then per record date-time local YYYYMMDDhhmmss (7 BCD), processing code
// (3 BCD), amount n12 (6 BCD), response code (2 ASCII), terminal id (8).
func (e *Engine) history(c *call) error {
	a, ok, err := c.cardAccount()
	if err != nil || !ok {
		return err
	}
	recs, err := c.tx.LastJournal(40, a.No)
	if err != nil {
		return err
	}
	out := make([]byte, 1, 1+10*historyRecordLen)
	n := 0
	for i := range recs {
		r := &recs[i]
		if !MovesMoney(r) {
			continue
		}
		out = e.appendHistory(out, r)
		if n++; n == 10 {
			break
		}
	}
	out[0] = byte(n)
	c.f62 = out
	c.rc = RCApproved
	c.hasBal, c.bal = true, a.BalanceFen
	return nil
}

const historyRecordLen = 26

func (e *Engine) appendHistory(dst []byte, r *store.Record) []byte {
	t := r.Time.In(e.zone)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append(dst, bcd2(y/100), bcd2(y%100), bcd2(int(mo)), bcd2(d), bcd2(h), bcd2(mi), bcd2(s))
	p := int(r.ProcCode)
	dst = append(dst, bcd2(p/10000), bcd2(p/100%100), bcd2(p%100))
	amt := r.Amount
	if amt < 0 {
		amt = -amt
	}
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = bcd2(int(amt % 100))
		amt /= 100
	}
	dst = append(dst, digits[:]...)
	rc := r.Resp + "  "
	dst = append(dst, rc[:2]...)
	tid := r.Key.Terminal + "        "
	return append(dst, tid[:8]...)
}

func bcd2(v int) byte { return byte(v/10)<<4 | byte(v%10) }

// MovesMoney reports whether a journal record is an approved movement of
// the account's money (what a person's history lists). The kiosk's recent
// transactions and the service API's history use the same rule, so that
// both show the same records.
func MovesMoney(r *store.Record) bool {
	if RC(r.Resp) != RCApproved {
		return false
	}
	switch r.Kind {
	case store.KindPurchase, store.KindRefund, store.KindLoad, store.KindTopUp, store.KindFee, store.KindAdvice, store.KindReversal:
		return true
	}
	return false
}
