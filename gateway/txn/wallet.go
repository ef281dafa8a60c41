package txn

import (
	"encoding/binary"
	"strconv"

	"ecardgw/cardio/pboc"
	"ecardgw/codec/tlv"
	"ecardgw/store"
)

// walletLoad: 0200/190000 at a settlement POS. The card's INITIALIZE FOR
// LOAD answer arrives in field 55; the gateway checks the wallet limit, the
// online counter (never twice), MAC1 and the account balance, debits the
// account, and answers MAC2 (DF10), the account and wallet balances (54) and
// the water consumed since the last settlement (63 WATER:<fen>).
func (e *Engine) walletLoad(c *call) error {
	amt, ok := c.amount(e.limits.WalletLimit)
	if !ok {
		if c.rc == RCBadAmount && c.rec.Amount > e.limits.WalletLimit {
			c.decline(RCOverLimit)
		}
		return nil
	}
	if dead, err := c.tx.Tombstone(c.key); err != nil || dead {
		if dead {
			c.decline(RCNoOriginal)
		}
		return err
	}
	a, ok, err := c.cardAccount()
	if err != nil || !ok {
		return err
	}
	c.hasBal, c.bal = true, a.BalanceFen
	f55 := c.w.req.Bytes(55)
	if f55 == nil || tlv.Validate(f55) != nil {
		c.decline(RCFormat)
		return nil
	}
	serialB, ok1 := tlvValue(f55, tagSerial, 10)
	balB, ok2 := tlvValue(f55, tagWalletBal, 4)
	ctrB, ok3 := tlvValue(f55, tagCounter, 2)
	rndB, ok4 := tlvValue(f55, tagRandom, 4)
	mac1B, ok5 := tlvValue(f55, tagMAC1, 4)
	dtB, ok6 := tlvValue(f55, tagLoadTime, 7)
	tnB, ok7 := tlvValue(f55, tagTermNo, 6)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		c.decline(RCFormat)
		return nil
	}
	var sb [20]byte
	serial, ok := bcdDigits(sb[:0], serialB)
	if !ok || string(serial[8:]) != a.CardNumber || (a.CardSerial != "" && a.CardSerial != string(serial)) {
		c.decline(RCUnknownCard)
		return nil
	}
	before := int64(binary.BigEndian.Uint32(balB))
	ctr := binary.BigEndian.Uint16(ctrB)
	c.hasWal, c.wal = true, before
	if before+amt > e.limits.WalletLimit {
		c.decline(RCOverLimit)
		return nil
	}
	// The same (card, online counter) is never loaded twice: after a load
	// the stored counter is one past the one used.
	if a.Wallet.Loaded && ctr < a.Wallet.Counter {
		c.rec.Note = "online counter already used"
		c.decline(RCNotAllowed)
		return nil
	}
	if len(e.walletKey) != 16 {
		c.decline(RCSystem)
		return nil
	}
	var master [16]byte
	copy(master[:], e.walletKey)
	var rnd [4]byte
	var tn [6]byte
	var dt [7]byte
	copy(rnd[:], rndB)
	copy(tn[:], tnB)
	copy(dt[:], dtB)
	cardKey, err := pboc.DeriveCardKey(master, serialB)
	if err != nil {
		c.decline(RCFormat)
		return nil
	}
	sk := pboc.SessionKey(cardKey, rnd, ctr)
	want := pboc.MAC1(sk, uint32(before), uint32(amt), tn)
	if !constEq(want[:], mac1B) {
		e.obs.MACFailure()
		c.rec.Note = "MAC1 invalid"
		c.decline(RCMAC)
		return nil
	}
	if a.BalanceFen < amt {
		c.decline(RCInsufficient)
		return nil
	}
	// Water consumed since the last load: what the card spent offline.
	var water int64
	if a.Wallet.Loaded && a.Wallet.LastLoadBalance > before {
		water = a.Wallet.LastLoadBalance - before
	}
	a.BalanceFen -= amt
	a.CardSerial = string(serial)
	a.Wallet.Balance = before + amt
	a.Wallet.Counter = ctr + 1
	a.Wallet.LastLoadBalance = before + amt
	a.Wallet.Loaded = true
	a.Wallet.LastLoadAt = c.now
	a.Updated = c.now
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	mac2 := pboc.MAC2(sk, uint32(amt), tn, dt)
	c.f55 = tlv.Append(make([]byte, 0, 7), tagMAC2, mac2[:])
	c.f63 = strconv.AppendInt([]byte("WATER:"), water, 10)
	c.rc = RCApproved
	c.bal, c.wal = a.BalanceFen, a.Wallet.Balance
	c.rec.BalanceAfter = a.BalanceFen
	c.rec.Note = "wallet " + strconv.FormatInt(before, 10) + "->" + strconv.FormatInt(before+amt, 10)
	c.channel = ChannelCampus
	c.debitFen, c.debitCount = amt, 1
	c.extra = append(c.extra, store.Record{Kind: "water", ProcCode: c.proc, Account: a.No,
		CardMasked: c.rec.CardMasked, Amount: water, Resp: RCApproved, BalanceAfter: before})
	return c.tx.PutTxn(&store.TxnState{Key: c.key, Account: a.No, Amount: amt, Kind: "load",
		ProcCode: c.proc, Channel: ChannelCampus, Time: c.now})
}
