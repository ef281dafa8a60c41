package service

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// noLeaks fails the test if goroutines of the HTTP server, the client or
// the store are still running once its other cleanups have run.
func noLeaks(t *testing.T) {
	// Once per test, so that it runs after the cleanups of every fixture
	// the test made (cleanups run last-registered first).
	if _, dup := leakChecked.LoadOrStore(t, true); dup {
		return
	}
	t.Cleanup(func() {
		leakChecked.Delete(t)
		var left []string
		// Connections and the serve loop wind down asynchronously after
		// Shutdown: poll briefly rather than sleep a fixed time.
		for range 200 {
			if left = interesting(); len(left) == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("%d goroutine(s) leaked:\n%s", len(left), strings.Join(left, "\n\n"))
	})
}

var leakChecked sync.Map

func interesting() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		switch {
		case strings.Contains(g, "service.interesting"),
			strings.Contains(g, "testing.tRunner"),
			strings.Contains(g, "testing.(*F)"),
			strings.Contains(g, "testing.runFuzzing"):
			continue
		case strings.Contains(g, "net/http."), strings.Contains(g, "ecardgw/"), strings.Contains(g, "bbolt"):
			out = append(out, g)
		}
	}
	return out
}
