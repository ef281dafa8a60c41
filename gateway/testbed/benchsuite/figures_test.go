package benchsuite

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A benchmark or metric missing from the output (renamed) fails the
// figure naming it, instead of a dash in its table or a zero in a ratio.
func TestMissingBenchmarkIsNamed(t *testing.T) {
	benches, _ := parseFile(t, "campuscode.txt")
	m := &medians{benches: benches}
	tbl := benchTable(m, []string{"BenchmarkVerifyEd25519Cached"}, []string{"ns/op", "allocs/op"})
	require.NoError(t, m.err)
	require.Equal(t, []string{"BenchmarkVerifyEd25519Cached", "71,249", "0.00"}, tbl.Rows[0])

	benchTable(m, []string{"BenchmarkVerifyEd25519Cached", "BenchmarkVerifyEd25519Warm"}, []string{"ns/op"})
	require.ErrorIs(t, m.err, ErrMissing)
	require.ErrorContains(t, m.err, "BenchmarkVerifyEd25519Warm ns/op")

	m = &medians{benches: benches}
	m.get("BenchmarkVerifyEd25519Cached", "pages/op")
	require.ErrorIs(t, m.err, ErrMissing)
	require.ErrorContains(t, m.err, "BenchmarkVerifyEd25519Cached pages/op")
}
