package txn

import (
	"testing"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
)

// BenchmarkRequestFingerprint is the retransmission fingerprint of a card
// purchase, computed for every financial request (retransmit.go): the
// digest of its fields but the MAC and clock. It must not allocate.
func BenchmarkRequestFingerprint(b *testing.B) {
	p := &posclient.Terminal{ID: "T0000001", Merchant: "M00000000000001", Batch: 1}
	frame, err := iso8583.AppendFrame(nil, p.CardPurchase("123456789012", 1250, nil), make([]byte, 8))
	if err != nil {
		b.Fatal(err)
	}
	w := new(work)
	if err := iso8583.DecodeFrame(&w.req, frame); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		_ = fingerprint(w)
	}
}

// The fingerprint ignores the MAC and the clock fields, and nothing else.
func TestFingerprintFields(t *testing.T) {
	p := &posclient.Terminal{ID: "T0000001", Merchant: "M00000000000001", Batch: 1}
	m := p.CardPurchase("123456789012", 1250, nil)
	fp := func(m *iso8583.Message, mak byte) [16]byte {
		frame, err := iso8583.AppendFrame(nil, m, []byte{mak, 2, 3, 4, 5, 6, 7, 8})
		if err != nil {
			t.Fatal(err)
		}
		w := new(work)
		if err := iso8583.DecodeFrame(&w.req, frame); err != nil {
			t.Fatal(err)
		}
		return fingerprint(w)
	}
	base := fp(m, 1)
	if fp(m, 9) != base {
		t.Fatal("the MAC changed the fingerprint")
	}
	var c iso8583.Message
	m.Copy(&c)
	_ = c.SetUint(12, 235959)
	_ = c.SetUint(13, 1231)
	if fp(&c, 1) != base {
		t.Fatal("the clock fields changed the fingerprint")
	}
	for f, set := range map[int]func(*iso8583.Message){
		2:  func(m *iso8583.Message) { posclient.SetCard(m, "123456789013") },
		4:  func(m *iso8583.Message) { posclient.SetAmount(m, 1251) },
		55: func(m *iso8583.Message) { _ = m.SetBytes(55, []byte{0xDF, 0x01, 0x01, 0x00}) },
	} {
		m.Copy(&c)
		set(&c)
		if fp(&c, 1) == base {
			t.Fatalf("field %d did not change the fingerprint", f)
		}
	}
}

// BenchmarkRequestDecode decodes the same purchase frame: the baseline the
// fingerprint is measured against (both run on every request).
func BenchmarkRequestDecode(b *testing.B) {
	p := &posclient.Terminal{ID: "T0000001", Merchant: "M00000000000001", Batch: 1}
	frame, err := iso8583.AppendFrame(nil, p.CardPurchase("123456789012", 1250, nil), make([]byte, 8))
	if err != nil {
		b.Fatal(err)
	}
	w := new(work)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := iso8583.DecodeFrame(&w.req, frame); err != nil {
			b.Fatal(err)
		}
	}
}
