package iso8583_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
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

// TestAppendFrameKey: a session's prepared key gives the frame AppendFrame
// gives with the raw MAK, shared by several Messages without re-keying or
// allocating; nil means no MAC.
func TestAppendFrameKey(t *testing.T) {
	card := sampleCardData()
	var m, m2 iso8583.Message
	require.NoError(t, fillPurchase(&m, card))
	want, err := iso8583.AppendFrame(nil, &m, sampleMAK)
	require.NoError(t, err)
	key, err := mac.NewKey(sampleMAK)
	require.NoError(t, err)
	got, err := iso8583.AppendFrameKey(nil, &m, key)
	require.NoError(t, err)
	require.Equal(t, want, got)

	require.NoError(t, fillPurchase(&m2, card))
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		if buf, err = iso8583.AppendFrameKey(buf[:0], &m2, key); err != nil {
			panic(err)
		}
	})
	require.Zero(t, allocs)
	require.Equal(t, want, buf)

	plain, err := iso8583.AppendFrame(nil, &m, nil)
	require.NoError(t, err)
	got, err = iso8583.AppendFrameKey(nil, &m, nil)
	require.NoError(t, err)
	require.Equal(t, plain, got)
}
