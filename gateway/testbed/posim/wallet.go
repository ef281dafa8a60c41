package posim

import (
	"encoding/binary"
	"fmt"
	"time"

	"ecardgw/cardio/pboc"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/tlv"
	"ecardgw/gateway/posclient"
)

// walletLimit is the small wallet's limit (rules.md: 10.00).
const walletLimit = 1000

// walletCard is the card side of the small wallet: what INITIALIZE FOR
// LOAD would report and the key the card would compute MAC1 with.
type walletCard struct {
	balance uint32
	counter uint16
	key     [16]byte
	keyed   bool
	started bool // the card state carries over between runs of one process
}

// counterBase is the online counter the simulated cards report at the
// first tap of a run. A gateway never loads a (card, counter) twice and
// never moves a counter back, so a run against a store that earlier runs
// loaded must start above their counters; the clock (one step per 8 s)
// does that without remembering anything between runs.
func counterBase(now time.Time) uint16 { return uint16(now.Unix() / 8 % 60000) }

// walletLoad is a settlement: the showers spent some of the wallet since
// the last load, and the settlement POS loads it back to 10.00 (the first
// load of a run is the pre-charge from an empty wallet).
func (st *simTerm) walletLoad(now time.Time) (pending, error) {
	c := st.walletCards[st.rng.IntN(len(st.walletCards))]
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &c.wallet
	if !w.keyed {
		sb, err := serialBCD(c)
		if err != nil {
			return pending{}, err
		}
		if w.key, err = pboc.DeriveCardKey(st.run.fleet.WalletKey, sb[:]); err != nil {
			return pending{}, err
		}
		w.keyed = true
	}
	if w.balance >= walletLimit {
		w.balance -= uint32(50 + st.rng.IntN(400)) // a few showers
	}
	amt := walletLimit - w.balance
	var rnd [4]byte
	binary.BigEndian.PutUint32(rnd[:], st.rng.Uint32())
	sk := pboc.SessionKey(w.key, rnd, w.counter)
	termNo := [6]byte{0, 0, 0, 0, byte(st.idx >> 8), byte(st.idx)}
	mac1 := pboc.MAC1(sk, w.balance, amt, termNo)
	sb, _ := serialBCD(c)
	dt := pboc.DateTime(now)
	li := posclient.LoadInit{Serial: sb, Balance: w.balance, Counter: w.counter, Random: rnd, MAC1: mac1,
		KeyVersion: 0x01, AlgID: 0x00, DateTime: dt, TermNo: termNo}
	m := &st.req
	st.term.FillAt(m, 200, 190000, 0, now)
	posclient.FillWalletLoad(m, c.Number, int64(amt), li.AppendF55(nil))
	return pending{kind: KindWallet, macd: true, card: c, sk: sk, amt: amt}, nil
}

// settle applies an approved wallet load to the card (CREDIT FOR LOAD),
// after checking MAC2 as the card would.
func (p *pending) settle(req, resp *iso8583.Message) error {
	if p.kind != KindWallet {
		return nil
	}
	c := p.card
	c.mu.Lock()
	defer c.mu.Unlock()
	mac2, ok, err := tlv.Find(resp.Bytes(55), 0xDF10)
	if err != nil || !ok || len(mac2) != 4 {
		return fmt.Errorf("%w: wallet load approved without MAC2", ErrAnswer)
	}
	f55 := req.Bytes(55)
	tn, _, _ := tlv.Find(f55, 0xDF0B)
	dtv, _, _ := tlv.Find(f55, 0xDF0A)
	var termNo [6]byte
	var dt [7]byte
	copy(termNo[:], tn)
	copy(dt[:], dtv)
	want := pboc.MAC2(p.sk, p.amt, termNo, dt)
	if !pboc.Equal(want, [4]byte(mac2)) {
		return fmt.Errorf("%w: MAC2 does not verify", ErrAnswer)
	}
	c.wallet.balance += p.amt
	c.wallet.counter++
	return nil
}

// skipCounter moves a card past an online counter the gateway says was
// used already (a store that earlier runs loaded more often than the
// clock-based base assumed).
func (p *pending) skipCounter() {
	if p.kind != KindWallet {
		return
	}
	p.card.mu.Lock()
	p.card.wallet.counter += 64
	p.card.mu.Unlock()
}
