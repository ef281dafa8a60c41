package daemon

import (
	"log/slog"
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// server.gogc sets the collector's target, unless GOGC is in the
// environment: the operator's explicit setting wins.
func TestApplyGOGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	log := slog.New(slog.DiscardHandler)
	t.Setenv("GOGC", "")
	require.NoError(t, os.Unsetenv("GOGC")) // restored by t.Setenv's cleanup

	applyGOGC(300, log)
	require.Equal(t, 300, debug.SetGCPercent(100))

	t.Setenv("GOGC", "150")
	applyGOGC(300, log)
	require.Equal(t, 100, debug.SetGCPercent(100), "server.gogc overrode GOGC from the environment")
}
