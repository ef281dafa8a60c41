package daemon

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuietWithGarbage(t *testing.T) {
	require.False(t, quietWithGarbage(false, 200<<20, 10<<20, 0), "busy: never")
	require.False(t, quietWithGarbage(true, 20<<20, 10<<20, 1<<20), "quiet, little garbage")
	require.True(t, quietWithGarbage(true, 200<<20, 10<<20, 0), "quiet, garbage")
	require.True(t, quietWithGarbage(true, 10<<20, 10<<20, 100<<20), "quiet, free heap kept from the system")
	require.False(t, quietWithGarbage(true, 9<<20, 10<<20, 0), "objects below the last live heap")
}

var sink [][]byte

// With collection as rare as the gateway runs it, garbage left by a burst
// is collected by the idle collector once allocation stops.
func TestIdleCollectorCollects(t *testing.T) {
	prev := debug.SetGCPercent(100000)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	runtime.GC()
	var ms runtime.MemStats
	for range 100 { // ~100 MB of garbage
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil
	runtime.ReadMemStats(&ms)
	require.Greater(t, ms.HeapAlloc, uint64(64<<20), "the garbage was collected before the test could look")

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { idleCollector(stop, slog.New(slog.DiscardHandler)); close(done) }()
	require.Eventually(t, func() bool {
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc < 32<<20
	}, 5*time.Second, 50*time.Millisecond, "the idle collector did not collect")
	close(stop)
	<-done
}
