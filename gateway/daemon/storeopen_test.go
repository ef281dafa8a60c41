package daemon_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// The "store open" line says where a slow start went: the journal's
// recovery, bbolt's open, the opening commit, the read ahead of the
// consistency check (from the disk or skipped as already cached) and the
// check itself. took= stays where tools look for it.
func TestStoreOpenLogSaysWhereTheTimeWent(t *testing.T) {
	_, logs := startLogged(t, gwOptions{terminals: 1}, nil)
	line := regexp.MustCompile(`msg="store open"[^\n]*`).FindString(logs.String())
	require.NotEmpty(t, line, logs.String())
	require.Regexp(t, ` took=\S+`, line)
	for _, attr := range []string{"bolt_open", "opening_commit", "read_ahead", "read_mib", "cached_mib", "check"} {
		require.Regexp(t, ` `+attr+`=\S+`, line)
	}
}
