package daemon

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// server.gogc and server.memory_limit_mb set the collector's target and
// the soft memory limit, unless GOGC or GOMEMLIMIT is in the environment:
// the operator's explicit setting wins.
func TestApplyRuntime(t *testing.T) {
	prevGC := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(prevGC)
		debug.SetMemoryLimit(prevLimit)
	})
	log := slog.New(slog.DiscardHandler)
	for _, k := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Setenv(k, "")
		require.NoError(t, os.Unsetenv(k)) // restored by t.Setenv's cleanup
	}

	applyRuntime(1600, 1024, log)
	require.Equal(t, 1600, debug.SetGCPercent(100))
	require.Equal(t, int64(1024)<<20, debug.SetMemoryLimit(math.MaxInt64))

	applyRuntime(1600, 0, log) // 0: no limit set
	require.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(math.MaxInt64))
	debug.SetGCPercent(100)

	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "512MiB")
	applyRuntime(1600, 1024, log)
	require.Equal(t, 100, debug.SetGCPercent(100), "server.gogc overrode GOGC from the environment")
	require.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(math.MaxInt64), "server.memory_limit_mb overrode GOMEMLIMIT")
}
