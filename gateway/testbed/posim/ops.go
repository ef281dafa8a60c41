package posim

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/tlv"
	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/posclient"
)

var uid = []byte{0x04, 0x5A, 0x6B, 0x7C}

func serialBCD(c *Card) ([10]byte, error) {
	s := c.Serial
	if s == "" {
		s = "00000000" + c.Number
	}
	var out [10]byte
	if len(s) != 20 {
		return out, fmt.Errorf("%w: account %d: card serial is not 20 digits", ErrFleet, c.Account)
	}
	for i := range out {
		hi, lo := s[2*i]-'0', s[2*i+1]-'0'
		if hi > 9 || lo > 9 {
			return out, fmt.Errorf("%w: account %d: card serial is not digits", ErrFleet, c.Account)
		}
		out[i] = hi<<4 | lo
	}
	return out, nil
}

// syncRequest is the first tap (0100/330000): it activates the electronic
// card and tells the gateway the wallet state the card reports.
func syncRequest(t *posclient.Terminal, c *Card) (*iso8583.Message, error) {
	sb, err := serialBCD(c)
	if err != nil {
		return nil, err
	}
	f55 := tlv.Append(nil, 0xDF01, uid)
	f55 = tlv.Append(f55, 0xDF02, sb[:])
	f55 = tlv.Append(f55, 0xDF04, binary.BigEndian.AppendUint32(nil, c.wallet.balance))
	f55 = tlv.Append(f55, 0xDF05, binary.BigEndian.AppendUint16(nil, c.wallet.counter))
	m := t.New(100, 330000, 0)
	posclient.SetCard(m, c.Number)
	_ = m.SetBytes(55, f55)
	return m, nil
}

// device is the person's phone: created at first use, one per card.
func (c *Card) deviceFor(key *issuer.Key, now time.Time) (*issuer.Device, error) {
	if c.device == nil {
		d, err := issuer.NewDevice(key, key.KeyID, c.Account, now.Add(-24*time.Hour), now.Add(365*24*time.Hour), crand.Reader)
		if err != nil {
			return nil, err
		}
		c.device = d
	}
	return c.device, nil
}

// appendPaymentCode appends a WeChat (18 digits, 10–15) or Alipay (18
// digits here, 25–30) payment code as pos-protocol.md tells them apart.
// The last digit is 0–4: the reference centre's payment simulator pays
// those at once (5–9 would simulate password entry, a decline, an unbound
// wallet or a slow channel, which a lunch-peak mix does not want by
// default).
func appendPaymentCode(dst []byte, r *rand.Rand, k Kind) []byte {
	prefix := 10 + r.IntN(6)
	if k == KindAlipay {
		prefix = 25 + r.IntN(6)
	}
	dst = strconv.AppendInt(dst, int64(prefix), 10)
	var mid [15]byte // 15 digits, zero-filled
	v := r.Uint64N(1e15)
	for i := len(mid) - 1; i >= 0; i-- {
		mid[i] = byte('0' + v%10)
		v /= 10
	}
	dst = append(dst, mid[:]...)
	return append(dst, byte('0'+r.IntN(5)))
}

// pending is a request on its way (in st.req) and what checking its
// answer needs.
type pending struct {
	kind Kind
	macd bool
	card *Card
	sk   [8]byte // wallet session key, to check MAC2
	amt  uint32
}

// The builders below fill the terminal's reused request message with the
// same fields as posclient's helpers, without allocating a message per
// request: with thousands of terminals in the same process as the
// gateway, the simulator's own CPU is taken from the gateway's.

func (st *simTerm) purchase(amount int64, entry string, now time.Time) *iso8583.Message {
	m := &st.req
	st.term.FillAt(m, 200, 0, 0, now)
	_ = m.SetUint(4, uint64(amount))
	_ = m.SetDigits(22, []byte(entry))
	_ = m.SetUint(25, 0)
	_ = m.SetString(49, "156")
	return m
}

// build puts the next request of kind k into st.req; now is the
// terminal's clock (fields 12 and 13, campus codes, wallet loads).
func (st *simTerm) build(k Kind, now time.Time) (pending, error) {
	t := &st.term
	p := pending{kind: k, macd: true}
	switch k {
	case KindEcho:
		t.FillAt(&st.req, 820, -1, 301, now)
		p.macd = false
	case KindCard:
		p.card = st.nextCard()
		m := st.purchase(st.amount(), "071", now)
		_ = m.SetDigits(2, []byte(p.card.Number))
		_ = m.SetBytes(55, uidTLV)
	case KindInquiry:
		p.card = st.nextCard()
		m := &st.req
		t.FillAt(m, 100, 310000, 0, now)
		posclient.SetCard(m, p.card.Number)
	case KindWeChat, KindAlipay:
		st.code = appendPaymentCode(st.code[:0], st.rng, k)
		_ = st.purchase(st.amount(), "031", now).SetBytes(62, st.code)
	case KindCode:
		c := st.nextCard()
		c.mu.Lock()
		d, err := c.deviceFor(st.run.fleet.Issuer, now)
		var code string
		if err == nil {
			code, err = d.Code(now)
		}
		c.mu.Unlock()
		if err != nil {
			return p, err
		}
		p.card = c
		_ = st.purchase(st.amount(), "031", now).SetString(62, code)
	case KindWallet:
		return st.walletLoad(now)
	default:
		return p, fmt.Errorf("%w: kind %v", ErrMix, k)
	}
	return p, nil
}

// uidTLV is field 55 of a card purchase: the card UID the reader saw.
var uidTLV = tlv.Append(nil, 0xDF01, uid)
