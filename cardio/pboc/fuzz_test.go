package pboc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzParseDateTime: whatever 7 bytes arrive in DF0A, a date-time that
// parses re-encodes to the same bytes. Seeds: testdata/fuzz/.
func FuzzParseDateTime(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 7 {
			return
		}
		var dt [7]byte
		copy(dt[:], b)
		at, err := ParseDateTime(dt, time.UTC)
		if err != nil {
			return
		}
		require.Equal(t, dt, DateTime(at))
	})
}
