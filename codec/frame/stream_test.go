package frame_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
	"ecardgw/codec/hexfix"
)

// splitter is the shape of the server's read loop: it keeps bytes until
// frame.Next says a frame is whole, hands the frame out, and stops at the
// first length error (the server closes the connection there).
type splitter struct {
	buf    []byte
	frames [][]byte
	err    error
}

func (s *splitter) feed(p []byte) {
	if s.err != nil {
		return
	}
	s.buf = append(s.buf, p...)
	for {
		n, err := frame.Next(s.buf, frame.DefaultMax)
		if err != nil {
			s.err = err
			return
		}
		if n == 0 {
			return
		}
		s.frames = append(s.frames, append([]byte(nil), s.buf[:n]...))
		s.buf = s.buf[n:]
	}
}

func streamSeeds(t testing.TB) [][]byte {
	one := build(t, []byte{0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0})
	two := build(t, []byte{0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0x31, 0, 0})
	seeds := [][]byte{
		one,
		append(append([]byte(nil), one...), two...),
		append(append([]byte(nil), two...), 0x00),       // a frame and a partial LEN
		append(append([]byte(nil), one...), 0x00, 0x05), // a frame and a too-short LEN
		append(append([]byte(nil), one...), 0x09, 0x00), // a frame and a too-large LEN
	}
	var all []byte
	fixtures, err := hexfix.ParseDir("../../testdata/frames")
	require.NoError(t, err)
	for _, fx := range fixtures {
		seeds = append(seeds, fx.Bytes)
		all = append(all, fx.Bytes...)
	}
	if len(all) > 0 {
		seeds = append(seeds, all)
	}
	return seeds
}

// FuzzStream: splitting a byte stream must not depend on how TCP chunks
// it. The whole input and the input cut at the fuzzer's points yield the
// same frames and the same error.
func FuzzStream(f *testing.F) {
	for i, s := range streamSeeds(f) {
		f.Add(s, []byte{byte(i), 1, 7, 13, 2})
	}
	f.Fuzz(func(t *testing.T, in []byte, cuts []byte) {
		var whole splitter
		whole.feed(in)

		var parts splitter
		rest := in
		for _, c := range cuts {
			if len(rest) == 0 {
				break
			}
			n := int(c) % (len(rest) + 1)
			parts.feed(rest[:n])
			rest = rest[n:]
		}
		parts.feed(rest)

		require.Equal(t, whole.frames, parts.frames)
		require.Equal(t, whole.err == nil, parts.err == nil)
		if whole.err != nil {
			require.True(t, errors.Is(parts.err, frame.ErrTooLarge) == errors.Is(whole.err, frame.ErrTooLarge))
		} else {
			require.Equal(t, whole.buf, parts.buf)
		}
		for _, fr := range whole.frames {
			_, _, err := frame.Split(fr)
			require.NoError(t, err)
		}
	})
}
