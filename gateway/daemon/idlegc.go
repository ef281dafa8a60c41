package daemon

import (
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The gateway collects rarely (server.gogc): under load every collection
// shows in the latency tail. The price is garbage kept around, and after a
// burst — ten thousand terminals signing in at 07:00 — the process would
// sit on it (and on the memory it occupies) until the next burst or the
// runtime's two-minute forced collection. So when the gateway goes quiet
// with a pile of garbage, it collects and returns the memory to the
// system then, when a pause costs no terminal anything.

const (
	idleGCEvery    = time.Second
	idleGCQuiet    = 4 << 20  // allocated in the last second: below this the gateway is quiet (a few hundred requests/s)
	idleGCGarbage  = 32 << 20 // garbage plus free heap kept from the system worth collecting for
	metricAllocs   = "/gc/heap/allocs:bytes"
	metricObjects  = "/memory/classes/heap/objects:bytes"
	metricLiveHeap = "/gc/heap/live:bytes"
	metricFree     = "/memory/classes/heap/free:bytes"
)

// idleGC decides, once a second, whether to collect.
type idleGC struct {
	samples    []metrics.Sample
	prevAllocs uint64
	primed     bool
}

func newIdleGC() *idleGC {
	return &idleGC{samples: []metrics.Sample{{Name: metricAllocs}, {Name: metricObjects}, {Name: metricLiveHeap}, {Name: metricFree}}}
}

// due reads the runtime's counters and reports whether now is the moment:
// little was allocated since the last call, and garbage (heap objects
// beyond the live heap of the last collection) plus free heap memory the
// runtime keeps from the system (with a high GOGC it keeps a lot) add up
// to something worth handing back.
func (g *idleGC) due() bool {
	metrics.Read(g.samples)
	allocs, objects := g.samples[0].Value.Uint64(), g.samples[1].Value.Uint64()
	live, free := g.samples[2].Value.Uint64(), g.samples[3].Value.Uint64()
	quiet := g.primed && allocs-g.prevAllocs < idleGCQuiet
	g.prevAllocs, g.primed = allocs, true
	return quietWithGarbage(quiet, objects, live, free)
}

func quietWithGarbage(quiet bool, objects, live, free uint64) bool {
	garbage := uint64(0)
	if objects > live {
		garbage = objects - live
	}
	return quiet && garbage+free > idleGCGarbage
}

// idleCollector runs until stop is closed.
func idleCollector(stop <-chan struct{}, log *slog.Logger) {
	g := newIdleGC()
	t := time.NewTicker(idleGCEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if g.due() {
				start := time.Now()
				debug.FreeOSMemory()
				log.Debug("idle: collected and returned memory", "took", time.Since(start))
			}
		}
	}
}
