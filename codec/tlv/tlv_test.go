package tlv_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/tlv"
)

func sampleTLV() []byte {
	var b []byte
	b = tlv.Append(b, 0xDF01, []byte{0x04, 0xA1, 0xB2, 0xC3})
	b = tlv.Append(b, 0xDF02, []byte{0x10, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x90})
	b = tlv.Append(b, 0xDF05, nil)
	b = tlv.Append(b, 0xDF04, []byte{0x00, 0x00, 0x03, 0xE8})
	return b
}

func TestAppendLayout(t *testing.T) {
	got := tlv.Append([]byte{0xAA}, 0xDF10, []byte{1, 2, 3, 4})
	require.Equal(t, []byte{0xAA, 0xDF, 0x10, 0x04, 1, 2, 3, 4}, got)
	require.Panics(t, func() { tlv.Append(nil, 0xDF01, make([]byte, 256)) })
	require.Len(t, tlv.Append(nil, 0xDF01, make([]byte, 255)), 258)
}

func TestNextWalk(t *testing.T) {
	b := sampleTLV()
	var tags []uint16
	for rest := b; len(rest) > 0; {
		tag, val, r, err := tlv.Next(rest)
		require.NoError(t, err)
		tags = append(tags, tag)
		require.Equal(t, len(val), cap(val), "value must not reach into the next item")
		rest = r
	}
	require.Equal(t, []uint16{0xDF01, 0xDF02, 0xDF05, 0xDF04}, tags)
}

func TestFind(t *testing.T) {
	b := sampleTLV()
	v, ok, err := tlv.Find(b, 0xDF04)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, []byte{0x00, 0x00, 0x03, 0xE8}, v)

	v, ok, err = tlv.Find(b, 0xDF05)
	require.NoError(t, err)
	require.True(t, ok)
	require.Empty(t, v)

	_, ok, err = tlv.Find(b, 0xDF10)
	require.NoError(t, err)
	require.False(t, ok)

	_, ok, err = tlv.Find(b[:len(b)-1], 0xDF10)
	require.ErrorIs(t, err, tlv.ErrTruncated)
	require.False(t, ok)
}

func TestRejectsTruncation(t *testing.T) {
	full := sampleTLV()
	cases := map[string][]byte{
		"one byte":         {0xDF},
		"tag only":         {0xDF, 0x01},
		"value short":      {0xDF, 0x01, 0x04, 0x01, 0x02, 0x03},
		"last item short":  full[:len(full)-1],
		"length past end":  {0xDF, 0x01, 0xFF},
		"trailing garbage": append(append([]byte(nil), full...), 0xDF),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, tlv.Validate(b), tlv.ErrTruncated)
		})
	}
	require.NoError(t, tlv.Validate(full))
	require.NoError(t, tlv.Validate(nil))
	_, _, _, err := tlv.Next(nil)
	require.ErrorIs(t, err, tlv.ErrTruncated)
}

func FuzzTLV(f *testing.F) {
	f.Add(sampleTLV())
	f.Add([]byte{})
	f.Add([]byte{0xDF, 0x01, 0x02, 0xAA})
	f.Fuzz(func(t *testing.T, b []byte) {
		verr := tlv.Validate(b)
		// Walking and re-appending every item must rebuild the input
		// exactly when (and only when) Validate accepts it.
		var rebuilt []byte
		rest := b
		var werr error
		for len(rest) > 0 {
			tag, val, r, err := tlv.Next(rest)
			if err != nil {
				werr = err
				break
			}
			require.LessOrEqual(t, len(val), tlv.MaxValue)
			rebuilt = tlv.Append(rebuilt, tag, val)
			rest = r
		}
		if verr != nil {
			require.ErrorIs(t, verr, tlv.ErrTruncated)
			require.ErrorIs(t, werr, tlv.ErrTruncated)
			return
		}
		require.NoError(t, werr)
		require.True(t, bytes.Equal(b, rebuilt))
		if len(b) >= 2 {
			tag := uint16(b[0])<<8 | uint16(b[1])
			v, ok, err := tlv.Find(b, tag)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, int(b[2]), len(v))
		}
	})
}
