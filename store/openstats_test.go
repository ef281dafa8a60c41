package store

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// Open reports what it spent its time on: each step it ran and the bytes
// it read ahead of the check.
func TestOpenStats(t *testing.T) {
	db, path := openTest(t, Options{})
	db = reopen(t, db, Options{})
	st := db.OpenStats()
	for name, d := range map[string]any{"Bolt": st.Bolt, "Prepare": st.Prepare,
		"ReadAhead": st.ReadAhead, "Check": st.Check} {
		require.Positive(t, d, name)
	}
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), st.ReadBytes+st.CachedBytes)

	db = reopen(t, db, Options{SkipCheck: true})
	st = db.OpenStats()
	require.Zero(t, st.Check)
	require.Zero(t, st.ReadAhead)
	require.Zero(t, st.ReadBytes+st.CachedBytes)
	require.Positive(t, st.Bolt)
}
