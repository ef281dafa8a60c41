package server

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestShutdownAnswersInFlight(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	gate := make(chan struct{})
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		<-gate
		return f, false
	})
	s := start(t, h, Options{Hooks: rs.hooks()})
	c := dial(t, s)
	var all []byte
	for i := range 5 {
		all = append(all, mkFrame(uint64(i), 0)...)
	}
	_, err := c.Write(all)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.InFlight() == 5 }, 10*time.Second, time.Millisecond)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	require.Eventually(t, s.draining.Load, 10*time.Second, time.Millisecond)
	// Lame duck: a newcomer is turned away while the old requests finish.
	late, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer late.Close()
	requireClosed(t, late)
	require.Equal(t, []CloseReason{CloseShutdown}, rs.rejects())

	close(gate)
	require.NoError(t, <-done)
	for i := range 5 {
		require.Equal(t, uint64(i), seqOf(readFrame(t, c)))
	}
	requireClosed(t, c)
	rs.waitClose(t, CloseShutdown)
	require.ErrorIs(t, s.Shutdown(context.Background()), ErrClosed)
}

func TestShutdownDeadlineCancelsHandlers(t *testing.T) {
	checkLeaks(t)
	cancelled := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		<-ctx.Done()
		close(cancelled)
		return f, false
	})
	s := start(t, h, Options{})
	c := dial(t, s)
	_, err := c.Write(mkFrame(1, 0))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.InFlight() == 1 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, s.Shutdown(ctx), context.DeadlineExceeded)
	<-cancelled
	requireClosed(t, c)
}

func TestStartAndOptions(t *testing.T) {
	checkLeaks(t)
	_, err := New(nil, Options{})
	require.ErrorIs(t, err, ErrNilHandler)
	for _, o := range []Options{
		{MaxFrame: 70000},
		{Workers: -1},
		{IdleTimeout: -time.Second},
		{MaxPendingRead: 100},
		{FrameTimeout: -time.Second},
		{MaxConnsPerAddr: -1},
		{MaxConnsPerTrustedAddr: -1},
		{TrustedAddrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}},
	} {
		_, err := New(echo(), o)
		require.ErrorIs(t, err, ErrOptions, "%+v", o)
	}

	s := start(t, echo(), Options{})
	addr := s.Addr().(*net.TCPAddr)
	require.NotZero(t, addr.Port)
	require.True(t, addr.IP.IsLoopback())
	require.ErrorIs(t, s.Start(), ErrStarted)

	// The port is taken: Start fails and leaves nothing running.
	busy, err := New(echo(), Options{Addr: addr.String()})
	require.NoError(t, err)
	require.Error(t, busy.Start())
	require.Nil(t, busy.Addr())

	never, err := New(echo(), Options{})
	require.NoError(t, err)
	require.NoError(t, never.Shutdown(context.Background()))
	require.ErrorIs(t, never.Start(), ErrClosed)
}

// TestRebindWhileOldConnectionsLinger: a server stopped while its clients
// keep their connections leaves the server side of each in FIN_WAIT2 on the
// port; a new server binds the same port at once (SO_REUSEADDR), while a
// second server beside a listening one is still refused (no SO_REUSEPORT).
func TestRebindWhileOldConnectionsLinger(t *testing.T) {
	checkLeaks(t)
	first, err := New(echo(), Options{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	require.NoError(t, first.Start())
	addr := first.Addr().String()
	for i := range 8 {
		roundTrip(t, dial(t, first), uint64(i)) // held open until the test ends
	}
	require.NoError(t, first.Shutdown(context.Background()))

	again, err := New(echo(), Options{Addr: addr})
	require.NoError(t, err)
	require.NoError(t, again.Start(), "rebinding the port of a stopped server")
	t.Cleanup(func() { _ = again.Shutdown(context.Background()) })
	roundTrip(t, dial(t, again), 1)

	twin, err := New(echo(), Options{Addr: addr})
	require.NoError(t, err)
	require.Error(t, twin.Start(), "two servers on one port")
}
