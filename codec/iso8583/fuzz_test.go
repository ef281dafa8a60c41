package iso8583_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
	"ecardgw/codec/hexfix"
	"ecardgw/codec/iso8583"
)

// fuzzSeeds are whole frames: the sample purchase, a random message of
// every type in the spec's table, and every fixture in testdata/frames.
func fuzzSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{samplePurchaseFrame(t)}
	r := rand.New(rand.NewPCG(64, 8583))
	for _, sm := range specMessages {
		m := new(iso8583.Message)
		m.Header = sampleHeader
		m.MTI = sm.mti
		for f, v := range randomMessage(r, sm.proc) {
			require.NoError(t, m.SetBytes(f, v))
		}
		fr, err := iso8583.AppendFrame(nil, m, sampleMAK)
		require.NoError(t, err)
		seeds = append(seeds, fr)
	}
	fixtures, err := hexfix.ParseDir("../../testdata/frames")
	require.NoError(t, err)
	for _, fx := range fixtures {
		seeds = append(seeds, fx.Bytes)
	}
	return seeds
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	var m, c iso8583.Message
	f.Fuzz(func(t *testing.T, in []byte) {
		err := iso8583.DecodeFrame(&m, in)
		if err != nil {
			var fe *iso8583.FieldError
			var le *frame.Error
			require.True(t, errors.As(err, &fe) || errors.As(err, &le), "untyped error %v", err)
			return
		}
		// A decoded message re-encodes to exactly the input.
		out, err := iso8583.AppendFrame(nil, &m, nil)
		require.NoError(t, err)
		require.True(t, bytes.Equal(in, out), "re-encoding differs")

		// The MAB is the body up to field 64.
		if m.Has(64) {
			body := in[frame.LenSize+frame.TPDUSize+frame.HeaderSize:]
			require.True(t, bytes.Equal(body[:len(body)-8], m.MAB()))
		} else {
			require.Nil(t, m.MAB())
		}

		// A copy encodes the same, after the input is gone.
		m.Copy(&c)
		saved := bytes.Clone(in)
		clear(in)
		out2, err := iso8583.AppendFrame(nil, &c, nil)
		require.NoError(t, err)
		require.Equal(t, saved, out2)

		// Peek agrees with the full decode.
		body := saved[frame.LenSize+frame.TPDUSize+frame.HeaderSize:]
		mti, stan, ok := iso8583.Peek(body)
		require.True(t, ok)
		require.Equal(t, c.MTI, mti)
		if c.Has(11) {
			want, err := c.STAN()
			require.NoError(t, err)
			require.Equal(t, want, stan)
		}
	})
}

func TestFuzzSeedsDecode(t *testing.T) {
	var m iso8583.Message
	for i, s := range fuzzSeeds(t) {
		err := iso8583.DecodeFrame(&m, s)
		if i <= len(specMessages) {
			require.NoError(t, err, "built seed %d", i)
		}
	}
}
