package daemon_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

// dialFrom connects to the gateway from a chosen loopback address (Linux
// routes all of 127.0.0.0/8 to lo), so that one test plays several hosts.
func (g *gateway) dialFrom(ip string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", g.addr)
}

// requireServesFrom is requireServes for a terminal on another host.
func (g *gateway) requireServesFrom(ip string, term int) {
	g.t.Helper()
	c, err := g.dialFrom(ip)
	require.NoError(g.t, err)
	defer c.Close()
	tr := posclient.TransportFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		if d, ok := ctx.Deadline(); ok {
			_ = c.SetDeadline(d)
		}
		if _, err := c.Write(req); err != nil {
			return nil, err
		}
		return posclient.ReadFrame(c)
	})
	p := &posclient.Terminal{ID: termOf(term), Merchant: "M00000000000001", TMK: tmk, T: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = p.SignIn(ctx, 1)
	require.NoError(g.t, err)
	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(term), 1, nil), true)
	require.NoError(g.t, err)
	require.Equal(g.t, "00", posclient.RC(resp))
}

// TestSlowLorisFromOneHost: one host opens 50 connections and trickles a
// half frame on each, a byte every 250 ms (so the idle timer never
// fires). Past server.max_conns_per_addr (32) its connections are refused
// (addr_limit); the 32 admitted are closed once server.frame_timeout has
// passed since their frame's first byte (slow_frame). Terminals on other
// hosts, and on a trusted address beyond the per-address cap, sign in and
// buy meanwhile.
func TestSlowLorisFromOneHost(t *testing.T) {
	t.Setenv("ECARDGW_SERVER_FRAME_TIMEOUT", "1s")
	t.Setenv("ECARDGW_SERVER_TRUSTED_ADDRS", "127.0.0.1")
	g := startGateway(t, gwOptions{})
	const loris, perAddr = 50, 32
	var wg sync.WaitGroup
	lived := make(chan time.Duration, loris)
	for range loris {
		c, err := g.dialFrom("127.0.0.2")
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			lived <- trickleHalfFrame(t, c, 250*time.Millisecond, 10*time.Second)
		}()
	}
	// While they trickle: a terminal on another host, and more than
	// max_conns_per_addr connections from the trusted address.
	g.requireServesFrom("127.0.0.3", 1)
	for range perAddr + 8 {
		g.dial(2) // closed at cleanup
	}
	g.requireServes(2)
	wg.Wait()
	close(lived)
	var refused, closed int
	for d := range lived {
		if d < 500*time.Millisecond {
			refused++ // closed at accept
			continue
		}
		closed++
		require.GreaterOrEqual(t, d, time.Second, "closed before server.frame_timeout")
		require.Less(t, d, 4*time.Second)
	}
	require.Equal(t, loris-perAddr, refused)
	// The trusted address's 40 connections were all admitted: addr_limit
	// below counts only the 18 from 127.0.0.2.
	require.Equal(t, perAddr, closed)
	require.Eventually(t, func() bool {
		s := g.scrape()
		return metric(s, "ecardgw_pos_connections_closed_total", `reason="slow_frame"`) == perAddr &&
			metric(s, "ecardgw_pos_connections_closed_total", `reason="addr_limit"`) == loris-perAddr
	}, 5*time.Second, 20*time.Millisecond)
	g.requireServesFrom("127.0.0.2", 3) // the host's places are free again
	g.requireServes(4)
}

// trickleHalfFrame announces a 1000-byte frame on c and sends one byte
// every interval until the gateway closes c; it returns how long that
// took after the first byte. It fails the test (without stopping it, as
// it runs on its own goroutine) if c is still open after limit.
func trickleHalfFrame(t *testing.T, c net.Conn, interval, limit time.Duration) time.Duration {
	first := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := c.Write([]byte{0x03, 0xE8, 0x60}); err != nil {
			return
		}
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if _, err := c.Write([]byte{0x00}); err != nil {
					return
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()
	readUntilClosed(t, c, limit)
	return time.Since(first)
}
