package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every file demo init writes is owner-only: the configuration names the
// key file and the store, and the accounts file holds names, card numbers
// and balances. Nothing it writes is for group or others to read.
func TestDemoInitEveryFileOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var out bytes.Buffer
	require.NoError(t, writeDemo(dir, false, &out))
	require.NotContains(t, out.String(), "mode 0644")
	n := 0
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		st, err := os.Stat(path)
		require.NoError(t, err)
		if d.IsDir() {
			require.Equal(t, os.FileMode(0o700), st.Mode().Perm(), path)
			return nil
		}
		n++
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), path)
		return nil
	}))
	require.Equal(t, len(demoParts), n)

	// --force rewrites them owner-only too.
	require.NoError(t, writeDemo(dir, true, &out))
	for _, p := range demoParts {
		st, err := os.Stat(filepath.Join(dir, p.name))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), p.name)
	}
}
