package server

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// laterHandler defers frames whose sequence number is odd until release
// is closed, and answers the others at once.
type laterHandler struct {
	release chan struct{}
	mu      sync.Mutex
	held    int
}

func (h *laterHandler) Handle(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
	return f, false
}

func (h *laterHandler) HandleLater(_ context.Context, _ *ConnInfo, f []byte, l Later) ([]byte, bool, bool) {
	if seqOf(f)%2 == 0 {
		return f, false, false
	}
	h.mu.Lock()
	h.held++
	h.mu.Unlock()
	go func() {
		<-h.release
		l.Answer(f, false) // the frame's bytes are kept until answered
	}()
	return nil, false, true
}

func TestDeferredAnswersHoldNoWorker(t *testing.T) {
	checkLeaks(t)
	h := &laterHandler{release: make(chan struct{})}
	s := start(t, h, Options{Workers: 1})
	// Many deferred requests on several connections, one worker only.
	slow := make([]net.Conn, 4)
	for i := range slow {
		slow[i] = dial(t, s)
		for j := range 4 {
			_, err := slow[i].Write(mkFrame(uint64(2*j+1), 10))
			require.NoError(t, err)
		}
	}
	require.Eventually(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.held == 16 }, 5*time.Second, time.Millisecond)
	// Another connection is answered meanwhile, by the one worker.
	fast := dial(t, s)
	for i := range 20 {
		roundTrip(t, fast, uint64(2*i))
	}
	// (The last fast request leaves the count just after its answer.)
	require.Eventually(t, func() bool { return s.InFlight() == 16 }, 5*time.Second, time.Millisecond,
		"deferred requests stay in flight: %d", s.InFlight())
	close(h.release)
	for _, c := range slow {
		// In request order, though released in any order.
		for j := range 4 {
			require.EqualValues(t, 2*j+1, seqOf(readFrame(t, c)))
		}
	}
	require.Eventually(t, func() bool { return s.InFlight() == 0 }, 5*time.Second, time.Millisecond)
}

// A deferred answer for a connection the terminal closed is dropped and
// its request recycled.
func TestDeferredAnswerAfterClose(t *testing.T) {
	checkLeaks(t)
	h := &laterHandler{release: make(chan struct{})}
	s := start(t, h, Options{Workers: 2})
	c := dial(t, s)
	_, err := c.Write(mkFrame(1, 10))
	require.NoError(t, err)
	require.Eventually(t, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.held == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return s.Conns() == 0 }, 5*time.Second, time.Millisecond)
	close(h.release)
	require.Eventually(t, func() bool { return s.InFlight() == 0 }, 5*time.Second, time.Millisecond)
}
