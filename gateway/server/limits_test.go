package server

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

func TestConnectionCap(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	s := start(t, echo(), Options{MaxConns: 10, Hooks: rs.hooks()})
	served := make([]net.Conn, 10)
	for i := range served {
		served[i] = dial(t, s)
		roundTrip(t, served[i], uint64(i))
	}
	// A concurrent flood: every newcomer is accepted and closed at once.
	const flood = 40
	results := make(chan error, flood)
	for range flood {
		go func() {
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				results <- err
				return
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = io.Copy(io.Discard, c) // nil at EOF: closed by the server
			results <- err
		}()
	}
	for range flood {
		err := <-results
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "flood connection not closed")
	}
	require.Len(t, rs.rejects(), flood)
	for _, r := range rs.rejects() {
		require.Equal(t, CloseOverCapacity, r)
	}
	for i, c := range served {
		roundTrip(t, c, uint64(100+i))
	}
	require.Equal(t, 10, s.Conns())
	// A freed place is usable again.
	require.NoError(t, served[0].Close())
	rs.waitClose(t, ClosePeer)
	roundTrip(t, dial(t, s), 1)
}

func TestIdleTimeout(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	s := start(t, echo(), Options{IdleTimeout: 100 * time.Millisecond, Hooks: rs.hooks()})
	c := dial(t, s)
	roundTrip(t, c, 1)
	requireClosed(t, c)
	rs.waitClose(t, CloseIdle)
	require.Equal(t, 0, s.Conns())
}

func TestIdleTimeoutSparesSlowHandler(t *testing.T) {
	checkLeaks(t)
	// A request in flight longer than the idle timeout keeps its
	// connection: the terminal is waiting for us, not idle.
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		time.Sleep(400 * time.Millisecond)
		return f, false
	})
	s := start(t, h, Options{IdleTimeout: 100 * time.Millisecond})
	roundTrip(t, dial(t, s), 1)
}

func TestSlowReaderClosed(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	big := make([]byte, 2000)
	h := HandlerFunc(func(context.Context, *ConnInfo, []byte) ([]byte, bool) { return big, false })
	s := start(t, h, Options{
		MaxPendingWrite: 32 << 10, SocketSendBuffer: 4096, Hooks: rs.hooks(),
		MaxPendingRead: 1 << 20, // only the write side may trip here, even on a loaded machine
	})
	tc, err := posclient.DialReadBuffer(s.Addr().String(), 5*time.Second, 4096)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tc.Close() })
	c := tc.Conn()
	// Send until the server gives up on us; never read. 4000 answers of
	// 2000 bytes would be 8 MB, far beyond what the kernel buffers absorb.
	go func() {
		f := mkFrame(0, 0)
		for range 4000 {
			if _, err := c.Write(f); err != nil {
				return
			}
		}
	}()
	rs.waitClose(t, CloseSlowReader)
	requireClosed(t, c)
}

func TestBackPressureBoundsInFlight(t *testing.T) {
	checkLeaks(t)
	const maxInFlight = 8
	var (
		srv     atomic.Pointer[Server]
		maxSeen atomic.Int64
	)
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		n := int64(srv.Load().InFlight())
		for {
			m := maxSeen.Load()
			if n <= m || maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		if seqOf(f)%64 == 0 {
			time.Sleep(time.Millisecond) // let the client run ahead
		}
		return f, false
	})
	s := start(t, h, Options{Workers: 32, MaxInFlight: maxInFlight})
	srv.Store(s) // before any request can reach the handler
	c := dial(t, s)
	// The client keeps up to 200 requests outstanding, far beyond
	// MaxInFlight: the server must pause reading, not hand them all out.
	const n, window = 10000, 200
	sent := make(chan struct{}, window)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			sent <- struct{}{}
			if _, err := c.Write(mkFrame(uint64(i), 0)); err != nil {
				return
			}
		}
	}()
	for i := range n {
		require.Equal(t, uint64(i), seqOf(readFrame(t, c)))
		<-sent
	}
	<-done
	// The limit was reached (so reading did pause) and never exceeded.
	require.Equal(t, int64(maxInFlight), maxSeen.Load())
}

func TestBackPressureFloodClosed(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	gate := make(chan struct{})
	var handled atomic.Int64
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		handled.Add(1)
		<-gate
		return f, false
	})
	s := start(t, h, Options{MaxInFlight: 4, MaxPendingRead: 16 << 10, Hooks: rs.hooks()})
	defer close(gate)
	c := dial(t, s)
	go func() {
		f := mkFrame(0, 0)
		for range 10000 { // 190 kB while the handler is stuck
			if _, err := c.Write(f); err != nil {
				return
			}
		}
	}()
	rs.waitClose(t, CloseReadOverflow)
	require.LessOrEqual(t, handled.Load(), int64(4))
	require.LessOrEqual(t, s.InFlight(), 4)
}

func TestPeerResetsWithAnswersPending(t *testing.T) {
	checkLeaks(t)
	// Terminals that vanish mid-request: every request must still be
	// accounted for (InFlight back to 0), whichever path sees the close
	// first: the poller, a failed writev in flush, or a finishing worker.
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		time.Sleep(time.Duration(seqOf(f)%4) * 100 * time.Microsecond)
		return f, false
	})
	s := start(t, h, Options{Workers: 8})
	for i := range 50 {
		c, err := net.Dial("tcp", s.Addr().String())
		require.NoError(t, err)
		var all []byte
		for j := range 5 {
			all = append(all, mkFrame(uint64(i+j), 100)...)
		}
		_, err = c.Write(all)
		require.NoError(t, err)
		require.NoError(t, c.(*net.TCPConn).SetLinger(0)) // close with RST
		require.NoError(t, c.Close())
	}
	require.Eventually(t, func() bool { return s.InFlight() == 0 && s.Conns() == 0 },
		10*time.Second, time.Millisecond)
}
