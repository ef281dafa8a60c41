package txn

import (
	"encoding/binary"

	"ecardgw/codec/tlv"
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
	// A sync carries no card cryptogram: its counter and balance are
	// information (shown, and the base for the water consumed), never the
	// online counter the load check relies on — only a load's MAC1 proves
	// that one (wallet.go). A forged sync can neither block later loads
	// nor open an old counter.
	if ctr >= a.Wallet.Counter {
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
