package benchsuite

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProfiledFunctionsExist keeps the functions committerNote reads from
// the profiles in step with the code: it builds cmd/benchsuite, the
// process the suite profiles the gateway in (this test binary leaves the
// gateway's request path out), and finds every one of them in it, so a
// renamed function fails go test before it fails a benchmark run.
func TestProfiledFunctionsExist(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "benchsuite")
	out, err := exec.Command("go", "build", "-o", bin, "ecardgw/cmd/benchsuite").CombinedOutput()
	require.NoError(t, err, string(out))
	have, err := funcSymbols(bin)
	require.NoError(t, err)
	require.Contains(t, have, "main.main")
	require.NoError(t, missingSymbols(have, profiledFns...))
}

// A function the binary lacks is an error that names it, and only it.
func TestMissingProfiledFunctionIsNamed(t *testing.T) {
	renamed := "ecardgw/gateway/txn.(*call).finishRenamed"
	// This test binary has the store's committer, and no such function.
	err := checkSymbols(fnCommitter, renamed)
	require.ErrorIs(t, err, ErrSymbol)
	require.ErrorContains(t, err, renamed)
	require.NotContains(t, err.Error(), fnCommitter)

	err = missingSymbols(map[string]bool{fnInvoke: true}, fnInvoke, fnFinish, fnBoltCommit, fnBoltCommit)
	require.ErrorIs(t, err, ErrSymbol)
	require.ErrorContains(t, err, fnFinish+", "+fnBoltCommit+" (renamed,")
}
