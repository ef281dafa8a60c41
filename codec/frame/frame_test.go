package frame_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
)

var testHeader = frame.Header{
	TPDU: [5]byte{0x60, 0x00, 0x03, 0x00, 0x07},
	Head: [6]byte{0x60, 0x31, 0x10, 0x31, 0x10, 0x01},
}

// build makes a frame around body with LEN filled in.
func build(t testing.TB, body []byte) []byte {
	t.Helper()
	out, start := frame.Begin(nil, testHeader)
	out = append(out, body...)
	require.NoError(t, frame.Finish(out, start))
	return out
}

func TestNext(t *testing.T) {
	whole := build(t, []byte{0x08, 0x00, 1, 2, 3})
	cases := []struct {
		name string
		buf  []byte
		max  int
		n    int
		err  error
	}{
		{"empty", nil, 0, 0, nil},
		{"one byte", []byte{0x00}, 0, 0, nil},
		{"LEN only", whole[:2], 0, 0, nil},
		{"partial", whole[:len(whole)-1], 0, 0, nil},
		{"whole", whole, 0, len(whole), nil},
		{"whole and more", append(bytes.Clone(whole), 0x00, 0x10), 0, len(whole), nil},
		{"header only", build(t, nil), 0, frame.LenSize + 11, nil},
		{"LEN zero", []byte{0x00, 0x00}, 0, 0, frame.ErrTooShort},
		{"LEN below header", []byte{0x00, 0x0A, 0x60}, 0, 0, frame.ErrTooShort},
		{"default max", []byte{0x08, 0x01}, 0, 0, frame.ErrTooLarge},
		{"at default max", []byte{0x08, 0x00}, 0, 0, nil},
		{"own max", whole, len(whole) - 3, 0, frame.ErrTooLarge},
		{"own max exact", whole, len(whole) - 2, len(whole), nil},
		{"0xFFFF", []byte{0xFF, 0xFF}, 0, 0, frame.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := frame.Next(tc.buf, tc.max)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, tc.n, n)
			if err != nil {
				var fe *frame.Error
				require.ErrorAs(t, err, &fe)
				require.NotContains(t, err.Error(), "\x60")
			}
		})
	}
}

func TestSplit(t *testing.T) {
	body := []byte{0x02, 0x00, 0xAA}
	fr := build(t, body)
	h, got, err := frame.Split(fr)
	require.NoError(t, err)
	require.Equal(t, testHeader, h)
	require.Equal(t, body, got)

	cases := map[string][]byte{
		"empty":        nil,
		"LEN only":     {0x00, 0x0B},
		"header cut":   fr[:10],
		"frame longer": append(bytes.Clone(fr), 0),
		"frame cut":    fr[:len(fr)-1],
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := frame.Split(b)
			require.Error(t, err)
			var fe *frame.Error
			require.ErrorAs(t, err, &fe)
		})
	}
	_, _, err = frame.Split(fr[:len(fr)-1])
	require.ErrorIs(t, err, frame.ErrLength)
	_, _, err = frame.Split(fr[:5])
	require.ErrorIs(t, err, frame.ErrTooShort)
}

func TestBeginFinish(t *testing.T) {
	dst := []byte("prefix")
	out, start := frame.Begin(dst, testHeader)
	require.Equal(t, 6, start)
	out = append(out, 0x08, 0x10)
	require.NoError(t, frame.Finish(out, start))
	require.Equal(t, []byte("prefix"), out[:6])
	require.Equal(t, []byte{0x00, 0x0D, 0x60, 0x00, 0x03, 0x00, 0x07, 0x60, 0x31, 0x10, 0x31, 0x10, 0x01, 0x08, 0x10}, out[6:])

	n, err := frame.Next(out[start:], 0)
	require.NoError(t, err)
	require.Equal(t, len(out)-start, n)

	big, start := frame.Begin(nil, testHeader)
	big = append(big, make([]byte, 0x10000)...)
	require.ErrorIs(t, frame.Finish(big, start), frame.ErrTooLarge)
	require.ErrorIs(t, frame.Finish([]byte{0, 0, 1}, 0), frame.ErrTooShort)
	require.ErrorIs(t, frame.Finish(out, -1), frame.ErrTooShort)
}

func TestBeginAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 64)
	require.Zero(t, testing.AllocsPerRun(100, func() {
		out, start := frame.Begin(buf[:0], testHeader)
		out = append(out, 0x08, 0x10)
		_ = frame.Finish(out, start)
		_, _ = frame.Next(out, 0)
		_, _, _ = frame.Split(out)
	}))
}

func TestReply(t *testing.T) {
	r := testHeader.Reply(6)
	require.Equal(t, [5]byte{0x60, 0x00, 0x07, 0x00, 0x03}, r.TPDU)
	require.Equal(t, [6]byte{0x60, 0x31, 0x16, 0x31, 0x10, 0x01}, r.Head)
	require.Equal(t, byte(6), r.ProcessingRequirement())
	require.True(t, r.TestTerminal())
	require.Equal(t, byte(0), testHeader.ProcessingRequirement())

	// Only the low nibble is taken; the status nibble is the terminal's.
	r = testHeader.Reply(0xF3)
	require.Equal(t, byte(0x13), r.Head[2])
	require.Equal(t, testHeader, testHeader.Reply(0).Reply(0))
	require.False(t, frame.Header{}.TestTerminal())
}
