package campuscard

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The file decoders must never panic, and what they accept must survive
// an encode/decode round trip unchanged. Seeds: testdata/fuzz/.

func FuzzParseAppInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAppInfo(b)
		if err != nil {
			return
		}
		back, err := ParseAppInfo(AppendAppInfo(nil, a))
		require.NoError(t, err)
		require.Equal(t, a, back)
	})
}

func FuzzParseHolder(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHolder(b)
		if err != nil {
			return
		}
		back, err := ParseHolder(AppendHolder(nil, h))
		require.NoError(t, err)
		require.Equal(t, h, back)
	})
}

func FuzzParseLogRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseLogRecord(b)
		if err != nil {
			return
		}
		require.Equal(t, b, AppendLogRecord(nil, r), "a log record re-encodes byte for byte")
	})
}
