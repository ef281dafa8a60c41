package server

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Loopback is 127.0.0.0/8 on Linux: a test client can bind any of its
// addresses as its source, so one test plays several hosts.

func tryDialFrom(s *Server, ip string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", s.Addr().String())
}

func dialFrom(t testing.TB, s *Server, ip string) net.Conn {
	t.Helper()
	c, err := tryDialFrom(s, ip)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// trickle is a slow-loris connection: it announces a 1000-byte frame and
// then sends one byte every interval (so the idle timer never fires),
// for at most limit, until the server closes the connection. It reports
// how long the connection lived after its first byte, or the read error
// if the server did not close it within limit.
func trickle(c net.Conn, interval, limit time.Duration) (time.Duration, error) {
	first := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := c.Write([]byte{0x03, 0xE8}); err != nil {
			return
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := c.Write(testHead[:1]); err != nil {
					return
				}
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)
	if err := c.SetReadDeadline(first.Add(limit)); err != nil {
		return 0, err
	}
	_, err := io.Copy(io.Discard, c) // nil at EOF
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return 0, err
	}
	return time.Since(first), nil
}

// TestSlowFramesClosed: half frames trickled a byte at a time from one
// host are closed once FrameTimeout has passed since the frame's first
// byte, although every byte resets the idle timer; terminals from that
// host and from others are served meanwhile, and a frame sent in parts
// within the timeout, or a pause between frames, is not affected.
func TestSlowFramesClosed(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	const timeout = 400 * time.Millisecond
	s := start(t, echo(), Options{FrameTimeout: timeout, IdleTimeout: time.Minute, Hooks: rs.hooks()})

	const loris = 20
	type result struct {
		lived time.Duration
		err   error
	}
	results := make(chan result, loris)
	for range loris {
		c := dialFrom(t, s, "127.0.0.2")
		go func() {
			lived, err := trickle(c, 50*time.Millisecond, 5*time.Second)
			results <- result{lived, err}
		}()
	}

	// Meanwhile: a terminal on another host and one on the same host.
	other := dialFrom(t, s, "127.0.0.3")
	same := dialFrom(t, s, "127.0.0.2")
	for i := range 10 {
		roundTrip(t, other, uint64(i))
		roundTrip(t, same, uint64(i))
		time.Sleep(20 * time.Millisecond)
	}
	// A frame in three parts, 100 ms apart, completes within the timeout.
	f := mkFrame(99, 40)
	for _, part := range [][]byte{f[:1], f[1:20], f[20:]} {
		_, err := same.Write(part)
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, f, readFrame(t, same))
	// A pause between frames is not a slow frame.
	time.Sleep(2 * timeout)
	roundTrip(t, same, 100)

	for range loris {
		r := <-results
		require.NoError(t, r.err, "a slow frame was not closed")
		require.GreaterOrEqual(t, r.lived, timeout, "closed before the frame's time was up")
		// The sweep runs every timeout/4; the rest is a loaded machine.
		require.Less(t, r.lived, timeout+2*time.Second)
	}
	require.Eventually(t, func() bool { return rs.count(CloseSlowFrame) == loris }, 5*time.Second, 10*time.Millisecond)
	roundTrip(t, other, 200)
	roundTrip(t, same, 200)
	require.Equal(t, 2, s.Conns())
}

// TestConnsPerAddrLimit: past MaxConnsPerAddr, new connections from that
// address are refused at once and counted, while its open connections and
// other addresses are served; a trusted address is not capped, and a
// freed place can be used again.
func TestConnsPerAddrLimit(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	s := start(t, echo(), Options{
		MaxConnsPerAddr: 4, Hooks: rs.hooks(),
		TrustedAddrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.4/32")},
	})
	held := make([]net.Conn, 4)
	for i := range held {
		held[i] = dialFrom(t, s, "127.0.0.2")
		roundTrip(t, held[i], uint64(i))
	}
	for range 6 {
		requireClosed(t, dialFrom(t, s, "127.0.0.2"))
	}
	require.Equal(t, []CloseReason{CloseAddrLimit, CloseAddrLimit, CloseAddrLimit, CloseAddrLimit, CloseAddrLimit, CloseAddrLimit}, rs.rejects())
	for i := range 4 {
		roundTrip(t, dialFrom(t, s, "127.0.0.3"), uint64(i))
	}
	for i := range 12 {
		roundTrip(t, dialFrom(t, s, "127.0.0.4"), uint64(i))
	}
	for i, c := range held {
		roundTrip(t, c, uint64(10+i))
	}
	require.Len(t, rs.rejects(), 6)
	require.NoError(t, held[0].Close())
	rs.waitClose(t, ClosePeer)
	roundTrip(t, dialFrom(t, s, "127.0.0.2"), 1)
	require.Equal(t, 4+4+12, s.Conns())
}

// TestConnsPerTrustedAddrLimit: trusted ranges have their own cap.
func TestConnsPerTrustedAddrLimit(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	s := start(t, echo(), Options{
		MaxConnsPerAddr: 2, MaxConnsPerTrustedAddr: 5, Hooks: rs.hooks(),
		TrustedAddrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.4/30")},
	})
	for _, ip := range []string{"127.0.0.5", "127.0.0.7"} {
		for i := range 5 {
			roundTrip(t, dialFrom(t, s, ip), uint64(i))
		}
		requireClosed(t, dialFrom(t, s, ip))
	}
	for i := range 2 {
		roundTrip(t, dialFrom(t, s, "127.0.0.8"), uint64(i)) // outside the /30
	}
	requireClosed(t, dialFrom(t, s, "127.0.0.8"))
	require.Equal(t, []CloseReason{CloseAddrLimit, CloseAddrLimit, CloseAddrLimit}, rs.rejects())
	require.Equal(t, 12, s.Conns())
}
