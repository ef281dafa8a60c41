package iso8583_test

import (
	"testing"

	moov "github.com/moov-io/iso8583"

	"ecardgw/codec/frame"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
)

// The four Purchase benchmarks work on the same 0200 card purchase
// (fields 2 3 4 11 12 13 22 25 41 42 49 55 60 64): decode a whole frame,
// and encode a whole frame with its MAC.

func BenchmarkDecodePurchase(b *testing.B) {
	fr := samplePurchaseFrame(b)
	var m iso8583.Message
	b.ReportAllocs()
	b.SetBytes(int64(len(fr)))
	for b.Loop() {
		if err := iso8583.DecodeFrame(&m, fr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePurchase(b *testing.B) {
	m := samplePurchase(b)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = iso8583.AppendFrame(buf[:0], m, sampleMAK)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkMoovUnpackPurchase reuses one moov Message, as ours reuses
// one Message, so the comparison is of decoding and not of setup.
func BenchmarkMoovUnpackPurchase(b *testing.B) {
	fr := samplePurchaseFrame(b)
	mm := moov.NewMessage(moovSpec)
	b.ReportAllocs()
	b.SetBytes(int64(len(fr)))
	for b.Loop() {
		_, body, err := frame.Split(fr)
		if err != nil {
			b.Fatal(err)
		}
		if err := mm.Unpack(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMoovPackPurchase packs the same message with moov and does what
// a moov user must for the same frame: MAC the packed MAB, patch field 64,
// wrap LEN and header.
func BenchmarkMoovPackPurchase(b *testing.B) {
	fr := samplePurchaseFrame(b)
	mm := moov.NewMessage(moovSpec)
	if err := mm.Unpack(fr[13:]); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		packed, err := mm.Pack()
		if err != nil {
			b.Fatal(err)
		}
		sum := mac.ECB(sampleMAK, packed[:len(packed)-8])
		copy(packed[len(packed)-8:], sum[:])
		out, start := frame.Begin(buf[:0], sampleHeader)
		out = append(out, packed...)
		if err := frame.Finish(out, start); err != nil {
			b.Fatal(err)
		}
		buf = out
	}
	b.SetBytes(int64(len(buf)))
}
