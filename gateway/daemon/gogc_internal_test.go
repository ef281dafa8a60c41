package daemon

import (
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
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

// server.gomaxprocs sets GOMAXPROCS; 0 adds a processor per POS event
// loop to the runtime's default; GOMAXPROCS in the environment wins.
func TestApplyProcs(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	log := slog.New(slog.DiscardHandler)
	t.Setenv("GOMAXPROCS", "")
	require.NoError(t, os.Unsetenv("GOMAXPROCS")) // restored by t.Setenv's cleanup

	require.Equal(t, defaultProcs+2, ApplyProcs(0, 2, log))
	require.Equal(t, defaultProcs+2, runtime.GOMAXPROCS(0))
	// Applied twice (two gateways in one process, a restart in tests):
	// from the default each time, not added up.
	require.Equal(t, defaultProcs+2, ApplyProcs(0, 2, log))
	require.Equal(t, defaultProcs+2, runtime.GOMAXPROCS(0))

	require.Equal(t, 3, ApplyProcs(3, 2, log))
	require.Equal(t, 3, runtime.GOMAXPROCS(0))

	runtime.GOMAXPROCS(prev)
	t.Setenv("GOMAXPROCS", strconv.Itoa(prev))
	require.Equal(t, prev, ApplyProcs(7, 2, log))
	require.Equal(t, prev, runtime.GOMAXPROCS(0), "server.gomaxprocs overrode GOMAXPROCS from the environment")
}
