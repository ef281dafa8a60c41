package accountscsv

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

var longDigits = regexp.MustCompile(`[0-9]{12,}`)

// FuzzParse: no panic; a file that parses writes back to a file that
// parses to the same accounts; an error never quotes a card-number-like
// run of digits from the input.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(testdata, "*.csv"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, err := Parse(bytes.NewReader(in))
		if err != nil {
			require.Nil(t, rows)
			require.False(t, longDigits.MatchString(err.Error()), "error quotes digits: %v", err)
			return
		}
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, rows))
		again, err := Parse(&buf)
		require.NoError(t, err)
		if len(rows) == 0 {
			require.Empty(t, again)
			return
		}
		require.Equal(t, rows, again)
	})
}
