package txn

import (
	"encoding/binary"

	"ecardgw/codec/tlv"
	"ecardgw/store"
)

// Field 55 tags (pos-protocol.md).
const (
	tagUID        = 0xDF01
	tagSerial     = 0xDF02
	tagAccount    = 0xDF03
	tagWalletBal  = 0xDF04
	tagCounter    = 0xDF05
	tagRandom     = 0xDF06
	tagMAC1       = 0xDF07
	tagKeyVersion = 0xDF08
	tagAlgorithm  = 0xDF09
	tagLoadTime   = 0xDF0A
	tagTermNo     = 0xDF0B
	tagMAC2       = 0xDF10
)

// tlvValue returns the value of a field 55 tag with an exact length.
func tlvValue(f55 []byte, tag uint16, size int) ([]byte, bool) {
	v, ok, err := tlv.Find(f55, tag)
	if err != nil || !ok || (size > 0 && len(v) != size) {
		return nil, false
	}
	return v, true
}

// bcdDigits appends the decimal digits of packed BCD bytes; false on a
// non-BCD nibble.
func bcdDigits(dst, b []byte) ([]byte, bool) {
	for _, x := range b {
		hi, lo := x>>4, x&0x0F
		if hi > 9 || lo > 9 {
			return dst, false
		}
		dst = append(dst, '0'+hi, '0'+lo)
	}
	return dst, true
}

// cardSync: 0100/330000, the first tap of the physical card. It records the
// card's serial, UID and small-wallet state against the account, activates
// the electronic card, and answers the balance. Doing it again is harmless.
func (e *Engine) cardSync(c *call) error {
	a, ok, err := c.cardAccount()
	if err != nil || !ok {
		return err
	}
	f55 := c.w.req.Bytes(55)
	if f55 == nil || tlv.Validate(f55) != nil {
		c.decline(RCFormat)
		return nil
	}
	serialB, ok1 := tlvValue(f55, tagSerial, 10)
	walB, ok2 := tlvValue(f55, tagWalletBal, 4)
	ctrB, ok3 := tlvValue(f55, tagCounter, 2)
	if !ok1 || !ok2 || !ok3 {
		c.decline(RCFormat)
		return nil
	}
	var sb [20]byte
	serial, ok := bcdDigits(sb[:0], serialB)
	if !ok {
		c.decline(RCFormat)
		return nil
	}
	// The printed card number is the last 12 digits of the serial.
	if string(serial[8:]) != a.CardNumber || (a.CardSerial != "" && a.CardSerial != string(serial)) {
		c.decline(RCUnknownCard)
		return nil
	}
	a.CardSerial = string(serial)
	if uid, ok := tlvValue(f55, tagUID, 0); ok && len(uid) <= 10 {
		a.CardUID = append([]byte(nil), uid...)
	}
	bal := int64(binary.BigEndian.Uint32(walB))
	ctr := binary.BigEndian.Uint16(ctrB)
	// The card is the truth about its own wallet; never move the counter
	// backwards (that would allow loading at an old counter).
	if ctr >= a.Wallet.Counter {
		a.Wallet.Counter = ctr
		a.Wallet.Balance = bal
		if ctr > 0 && !a.Wallet.Loaded {
			a.Wallet.Loaded = true
			a.Wallet.LastLoadBalance = bal
		}
	}
	a.ECardActive = true
	a.Updated = c.now
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	c.rc = RCApproved
	c.hasBal, c.bal = true, a.BalanceFen
	c.hasWal, c.wal = true, a.Wallet.Balance
	c.rec.BalanceAfter = a.BalanceFen
	return nil
}

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
		if !movesMoney(r) {
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

func movesMoney(r *store.Record) bool {
	if r.Resp != RCApproved {
		return false
	}
	switch r.Kind {
	case "purchase", "refund", "load", "topup", "fee", "advice", "reversal":
		return true
	}
	return false
}

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
