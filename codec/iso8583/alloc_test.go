package iso8583_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
)

// TestDecodeAllocatesNothing locks the hot path: decoding a purchase into
// a reused Message, reading its fields and peeking cost no allocation.
func TestDecodeAllocatesNothing(t *testing.T) {
	fr := samplePurchaseFrame(t)
	var m iso8583.Message
	var digits [32]byte
	allocs := testing.AllocsPerRun(200, func() {
		if err := iso8583.DecodeFrame(&m, fr); err != nil {
			panic(err)
		}
		_, _ = m.Amount()
		_, _ = m.STAN()
		_, _ = m.F60()
		_ = m.AppendDigits(digits[:0], 2)
		_, _, _ = iso8583.Peek(fr[13:])
	})
	require.Zero(t, allocs)
}

// TestEncodeAllocatesNothing: a reused Message and buffer build and encode
// a MACed purchase (setters, AppendFrame, MAC) without allocating.
func TestEncodeAllocatesNothing(t *testing.T) {
	card := sampleCardData()
	var m iso8583.Message
	buf := make([]byte, 0, 512)
	var err error
	// First round grows the arena and keys the MAC schedule.
	require.NoError(t, fillPurchase(&m, card))
	buf, err = iso8583.AppendFrame(buf[:0], &m, sampleMAK)
	require.NoError(t, err)
	want := append([]byte(nil), buf...)
	allocs := testing.AllocsPerRun(200, func() {
		if err := fillPurchase(&m, card); err != nil {
			panic(err)
		}
		buf, err = iso8583.AppendFrame(buf[:0], &m, sampleMAK)
		if err != nil {
			panic(err)
		}
	})
	require.Zero(t, allocs)
	require.Equal(t, want, buf)
}
