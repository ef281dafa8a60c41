package txn

import (
	"ecardgw/gateway/ledger"
	"encoding/binary"
	"strconv"

	"ecardgw/cardio/pboc"
	"ecardgw/codec/mac"
	"ecardgw/codec/tlv"
	"ecardgw/store"
)

// walletLoad: 0200/190000 at a settlement POS. The card's INITIALIZE FOR
// LOAD answer arrives in field 55; the gateway checks the wallet limit, the
// online counter (never twice), MAC1 and the account balance, debits the
// account, and answers MAC2 (DF10), the account and wallet balances (54) and
// the water consumed since the last settlement (63 WATER:<fen>).
func (e *Engine) walletLoad(c *call) error {
	in, ok, err := e.loadCheck(c)
	if err != nil || !ok {
		return err
	}
	settled, err := e.settleReversedLoad(c, in)
	if err != nil {
		return err
	}
	after := in.a
	if c.refused(ledger.Spend(&after, in.amt, 0, c.now)) {
		if settled {
			// What this load proved stands although it is itself declined.
			return c.tx.PutAccount(&in.a)
		}
		return nil
	}
	return e.applyLoad(c, in, after.BalanceFen)
}

// loadInput is a checked INITIALIZE FOR LOAD.
type loadInput struct {
	a      store.Account
	amt    int64
	serial [20]byte
	before int64
	ctr    uint16
	sk     [8]byte
	tn     [6]byte
	dt     [7]byte
}

// loadCheck parses and checks a load request: amount and wallet limit
// (61), the card (14/41/62), field 55, the online counter (never twice:
// 12) and MAC1 (A0). ok is false when it declined (c.rc set).
func (e *Engine) loadCheck(c *call) (*loadInput, bool, error) {
	amt, ok := c.amount(e.limits().WalletLimit)
	if !ok {
		if c.rc == RCBadAmount && c.rec.Amount > e.limits().WalletLimit {
			c.declineWhy(RCOverLimit, "limits.wallet_limit_fen (the load amount)")
		}
		return nil, false, nil
	}
	if dead, err := c.tx.Tombstone(c.key); err != nil || dead {
		if dead {
			c.decline(RCNoOriginal)
		}
		return nil, false, err
	}
	a, ok, err := c.cardAccount()
	if err != nil || !ok {
		return nil, false, err
	}
	c.hasBal, c.bal = true, a.BalanceFen
	f55 := c.w.req.Bytes(55)
	if f55 == nil || tlv.Validate(f55) != nil {
		c.decline(RCFormat)
		return nil, false, nil
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
		return nil, false, nil
	}
	in := &loadInput{a: a, amt: amt}
	serial, ok := bcdDigits(in.serial[:0], serialB)
	if !ok || string(serial[8:]) != a.CardNumber || (a.CardSerial != "" && a.CardSerial != string(serial)) {
		c.decline(RCUnknownCard)
		return nil, false, nil
	}
	in.before = int64(binary.BigEndian.Uint32(balB))
	in.ctr = binary.BigEndian.Uint16(ctrB)
	c.hasWal, c.wal = true, in.before
	if in.before+amt > e.limits().WalletLimit {
		c.declineWhy(RCOverLimit, "limits.wallet_limit_fen (the wallet balance after the load)")
		return nil, false, nil
	}
	// The same (card, online counter) is never loaded twice: after a load
	// the stored counter is one past the one used. Only a reversed load's
	// counter may come again: the card did not take that load.
	if a.Wallet.Loaded && in.ctr < a.Wallet.Counter &&
		(a.Wallet.Reversed == nil || in.ctr != a.Wallet.Reversed.Counter) {
		c.rec.Note = "online counter already used"
		c.decline(RCNotAllowed)
		return nil, false, nil
	}
	master, ok := e.walletKey(f55)
	if !ok {
		c.rec.Note = "no wallet master load key for the card's key version (DF08)"
		c.decline(RCSystem)
		return nil, false, nil
	}
	var rnd [4]byte
	copy(rnd[:], rndB)
	copy(in.tn[:], tnB)
	copy(in.dt[:], dtB)
	cardKey, err := pboc.DeriveCardKey(master, serialB)
	if err != nil {
		c.decline(RCFormat)
		return nil, false, nil
	}
	in.sk = pboc.SessionKey(cardKey, rnd, in.ctr)
	want := pboc.MAC1(in.sk, uint32(in.before), uint32(amt), in.tn)
	if !mac.Equal(want[:], mac1B) {
		e.obs.MACFailure()
		c.rec.Note = "MAC1 invalid"
		c.decline(RCMAC)
		return nil, false, nil
	}
	return in, true, nil
}

// applyLoad records a load: the account's new balance, the wallet state,
// MAC2 for the card, and the water consumed since the last load.
func (e *Engine) applyLoad(c *call, in *loadInput, balanceAfter int64) error {
	a, amt, before := in.a, in.amt, in.before
	var water int64
	if a.Wallet.Loaded && a.Wallet.LastLoadBalance > before {
		water = a.Wallet.LastLoadBalance - before
	}
	a.BalanceFen = balanceAfter
	a.CardSerial = string(in.serial[:])
	a.Wallet.Balance = before + amt
	a.Wallet.Counter = in.ctr + 1
	a.Wallet.LastLoadBalance = before + amt
	a.Wallet.Loaded = true
	a.Wallet.LastLoadAt = c.now
	a.Wallet.LastLoad = c.key
	a.Updated = c.now
	if err := c.tx.PutAccount(&a); err != nil {
		return err
	}
	mac2 := pboc.MAC2(in.sk, uint32(amt), in.tn, in.dt)
	c.f55 = tlv.Append(make([]byte, 0, 7), tagMAC2, mac2[:])
	c.f63 = strconv.AppendInt([]byte("WATER:"), water, 10)
	c.rc = RCApproved
	c.bal, c.wal = a.BalanceFen, a.Wallet.Balance
	c.rec.Account = a.No
	c.rec.Amount = amt
	c.rec.BalanceAfter = a.BalanceFen
	c.rec.Note = "wallet " + strconv.FormatInt(before, 10) + "->" + strconv.FormatInt(before+amt, 10)
	c.channel = store.ChannelCampus
	c.extra = append(c.extra, store.Record{Kind: store.KindWater, ProcCode: c.proc, Account: a.No,
		CardMasked: c.rec.CardMasked, Amount: water, Resp: string(RCApproved), BalanceAfter: before})
	return c.putState(&store.TxnState{Key: c.key, Account: a.No, Amount: amt, Kind: store.KindLoad,
		ProcCode: c.proc, Channel: store.ChannelCampus, Time: c.now})
}

// settleReversedLoad resolves the wallet's reversed load, if any, with
// what this load (its MAC1 verified) proves: a load at the reversed
// load's counter means the card never took it (the reversal stands); a
// load at a higher counter means the card did take it (the online
// counter moves only on a completed load), so the account is debited
// again, journaled as an exception for the settlement report. in.a is
// updated (settled reports it) and is written with the load.
func (e *Engine) settleReversedLoad(c *call, in *loadInput) (settled bool, err error) {
	r := in.a.Wallet.Reversed
	if r == nil {
		return false, nil
	}
	in.a.Wallet.Reversed = nil
	if in.ctr <= r.Counter {
		return true, nil
	}
	if _, err := ledger.TakeBack(&in.a, r.Amount, c.now); err != nil {
		return false, err // past the floor: not a decision a load can make
	}
	ts, found, err := c.tx.Txn(r.Key)
	if err != nil {
		return false, err
	}
	if found {
		ts.Reversed = false
		if err := c.tx.PutTxn(&ts); err != nil {
			return false, err
		}
	}
	c.debitedAgain(r.Key, &in.a, r.Amount, "online counter "+strconv.Itoa(int(r.Counter))+
		", this load came at "+strconv.Itoa(int(in.ctr)))
	c.settled.CardMasked = c.rec.CardMasked
	c.hasBal, c.bal = true, in.a.BalanceFen
	return true, nil
}

// loadTakenSince reports whether a load after the one keyed k reached
// the account's card: then the card took k's load (the online counter
// moves only on a completed load).
func loadTakenSince(a *store.Account, k store.IdemKey) bool {
	return a.Wallet.LastLoad != (store.IdemKey{}) && a.Wallet.LastLoad != k
}

// awaitNextLoad records a reversed load, the card's last, for its next
// load to settle (settleReversedLoad). The online counter stays where the
// load's MAC1 put it; the wallet's balance as last seen is the one before
// the load. It reports whether it changed a.
func awaitNextLoad(a *store.Account, ts *store.TxnState) bool {
	if !a.Wallet.Loaded || a.Wallet.Counter == 0 {
		return false
	}
	a.Wallet.Reversed = &store.ReversedLoad{Key: ts.Key, Counter: a.Wallet.Counter - 1, Amount: ts.Amount}
	a.Wallet.Balance = max(0, a.Wallet.Balance-ts.Amount)
	a.Wallet.LastLoadBalance = a.Wallet.Balance
	return true
}

// debitedAgain journals a reversed load of amount the card took after all,
// taken back from a (already debited): a record of its own, keyed by the
// load it settles, flagged for the settlement report.
func (c *call) debitedAgain(load store.IdemKey, a *store.Account, amount int64, why string) {
	orig := load
	c.settled = &store.Record{Key: load.Settled(), Kind: store.KindLoad, ProcCode: PCLoad, Account: a.No,
		Amount: amount, Resp: string(RCApproved), BalanceAfter: a.BalanceFen, Orig: &orig, Exception: true,
		Note: "reversed load debited again: the card took it (" + why + ")"}
}
