package daemon_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

// requireServes checks that a well-behaved terminal is still served.
func (g *gateway) requireServes(term int) {
	g.t.Helper()
	p, _ := g.dial(term)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := p.SignIn(ctx, 1)
	require.NoError(g.t, err)
	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(term), 1, nil), true)
	require.NoError(g.t, err)
	require.Equal(g.t, "00", posclient.RC(resp))
}

// readUntilClosed reads and discards until the gateway closes c; it marks
// the test failed if that takes longer than d. It may run on other
// goroutines than the test's, so it never stops the test.
func readUntilClosed(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Errorf("set deadline: %v", err)
		return
	}
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("the gateway kept the connection open for %v", d)
	}
}

// TestOversizedLength: a LEN beyond the maximum frame closes the
// connection at once; it is counted as too_large and as a protocol close.
func TestOversizedLength(t *testing.T) {
	g := startGateway(t, gwOptions{})
	for _, head := range [][]byte{{0xFF, 0xFF}, {0x08, 0x01, 0x60}, {0x00, 0x05, 0x60, 0, 0, 0, 0}} {
		c, err := net.Dial("tcp", g.addr)
		require.NoError(t, err)
		_, err = c.Write(head)
		require.NoError(t, err)
		readUntilClosed(t, c, 5*time.Second)
		_ = c.Close()
	}
	m := g.scrape()
	require.Equal(t, 2.0, metric(m, "ecardgw_pos_decode_errors_total", `reason="too_large"`))
	require.Equal(t, 1.0, metric(m, "ecardgw_pos_decode_errors_total", `reason="too_short"`))
	require.Eventually(t, func() bool {
		return metric(g.scrape(), "ecardgw_pos_connections_closed_total", `reason="protocol"`) == 3
	}, 5*time.Second, 20*time.Millisecond)
	g.requireServes(1)
}

// TestRandomBytes: connections sending random bytes get answers (30) or are
// closed, never crash the gateway nor keep a connection; a terminal is
// served throughout. Bounded: 40 connections, 16 KiB each.
func TestRandomBytes(t *testing.T) {
	g := startGateway(t, gwOptions{})
	rng := rand.New(rand.NewPCG(7, 11))
	var wg sync.WaitGroup
	for i := range 40 {
		junk := make([]byte, 16<<10)
		for j := range junk {
			junk[j] = byte(rng.UintN(256))
		}
		if i%2 == 0 {
			// Half of them start with a plausible LEN, so that the junk
			// reaches the message decoder and not only the framer.
			junk[0], junk[1] = 0x00, byte(40+rng.UintN(200))
		}
		c, err := net.Dial("tcp", g.addr)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			go func() { _, _ = c.Write(junk) }()
			readUntilClosed(t, c, 10*time.Second)
		}()
	}
	g.requireServes(2)
	wg.Wait()
	require.Eventually(t, func() bool { return g.d.POS.Conns() <= 1 }, 5*time.Second, 20*time.Millisecond)
	require.Positive(t, metric(g.scrape(), "ecardgw_pos_decode_errors_total"))
}

// TestSlowReaderIsClosed: a terminal that sends echo tests and never reads
// the answers is closed once its unread answers pass the per-connection
// bound (reason slow_reader, counted); the gateway's memory stays bounded
// and other terminals are served.
func TestSlowReaderIsClosed(t *testing.T) {
	// A small SO_SNDBUF: otherwise the kernel takes megabytes of answers
	// (tens of thousands of requests) before the gateway's own limit is
	// reached, half a minute on a loaded CI machine under -race.
	g := startGateway(t, gwOptions{sndBuf: 4096})
	// Measured with the collector at Go's default target: the gateway's
	// own (server.gogc, set at Start) lets garbage pile up by design, and
	// this test is about what stays reachable.
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	p, c := g.dialReadBuffer(1, 4096)
	_, err := p.SignIn(context.Background(), 1)
	require.NoError(t, err)
	echo := p.New(820, -1, 301)
	req, err := iso8583AppendFrame(echo, nil)
	require.NoError(t, err)
	// Paced bursts below the per-connection in-flight limit: the gateway
	// keeps up with reading (a sender that runs too far ahead is closed
	// for that, read_overflow, see TestFastSenderIsClosed) while the
	// answers pile up unread.
	burst := make([]byte, 0, 24*len(req))
	for range 24 {
		burst = append(burst, req...)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	done := make(chan int)
	go func() {
		sent := 0
		_ = c.Conn().SetWriteDeadline(time.Now().Add(30 * time.Second))
		for sent < 1_000_000 { // about 50 MB of answers at most: bounded
			if _, err := c.Conn().Write(burst); err != nil {
				break
			}
			sent += 24
			// At most 24 000 requests a second, well below what the gateway
			// answers, so that it never pauses this connection's reading.
			time.Sleep(time.Millisecond)
			for t0 := time.Now(); g.d.POS.InFlight() > 0 && time.Since(t0) < 100*time.Millisecond; {
				time.Sleep(100 * time.Microsecond)
			}
		}
		done <- sent
	}()
	require.Eventually(t, func() bool {
		return metric(g.scrape(), "ecardgw_pos_connections_closed_total", `reason="slow_reader"`) == 1
	}, 30*time.Second, 50*time.Millisecond)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	sent := <-done
	t.Logf("slow reader closed after %d echo requests; heap %d -> %d KiB", sent, before.HeapInuse>>10, after.HeapInuse>>10)
	require.Less(t, int64(after.HeapInuse)-int64(before.HeapInuse), int64(64<<20), "memory grew without bound")
	g.requireServes(2)
}

// TestMACFailureBurst: requests with a wrong MAC are answered A0 and
// counted; after 5 in a row the terminal must sign in again (77 with
// processing requirement 3), and after signing in it is served. Another
// terminal is not affected.
func TestMACFailureBurst(t *testing.T) {
	g := startGateway(t, gwOptions{})
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	wrong := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for range 5 {
		m := p.CardPurchase(cardOf(1), 10, nil)
		req, err := iso8583AppendFrame(m, wrong)
		require.NoError(t, err)
		resp, _, err := p.SendRaw(ctx, req, m, false)
		require.NoError(t, err)
		require.Equal(t, "A0", posclient.RC(resp))
	}
	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 10, nil), true)
	require.NoError(t, err)
	require.Equal(t, "77", posclient.RC(resp), "the old keys no longer work after the burst")
	require.Equal(t, byte(3), resp.Header.ProcessingRequirement())
	require.Equal(t, int64(100000), g.balance(1))
	require.Equal(t, 5.0, metric(g.scrape(), "ecardgw_session_mac_failures_total"))

	g.requireServes(2)
	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err)
	resp, _, err = p.Send(ctx, p.CardPurchase(cardOf(1), 10, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
}

// TestSignInStormThroughGateway: one terminal signing in as fast as it
// can for a bounded burst is limited (answers 96 beyond the limit) while
// another terminal keeps being served.
func TestSignInStormThroughGateway(t *testing.T) {
	g := startGateway(t, gwOptions{})
	ctx := context.Background()
	p, _ := g.dial(1)
	start := time.Now()
	ok, refused := 0, 0
	for range 300 {
		resp, err := p.SignIn(ctx, 1)
		switch {
		case err == nil:
			ok++
		case posclient.RC(resp) == "96":
			refused++
		default:
			t.Fatalf("sign-in: %v", err)
		}
	}
	elapsed := time.Since(start)
	t.Logf("300 sign-ins in %v: %d approved, %d refused", elapsed, ok, refused)
	require.LessOrEqual(t, ok, 5+int(elapsed/(200*time.Millisecond))+1)
	require.Positive(t, refused)
	require.Positive(t, metric(g.scrape(), "ecardgw_pos_requests_total", `mti="0800"`, `code="96"`))
	g.requireServes(2)
	// The keys of the last approved sign-in still work.
	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 10, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
}

// TestFastSenderIsClosed: a connection that pipelines far more than the
// per-connection in-flight limit without waiting is paused, and once what
// it sent ahead passes the read bound it is closed (read_overflow,
// counted as protocol); the gateway's memory for it stays bounded.
func TestFastSenderIsClosed(t *testing.T) {
	g := startGateway(t, gwOptions{})
	p, c := g.dial(1)
	_, err := p.SignIn(context.Background(), 1)
	require.NoError(t, err)
	// Purchases wait for an fsync each, so the gateway cannot keep up
	// with a sender that never waits.
	var burst []byte
	for range 2000 {
		req, err := iso8583AppendFrame(p.CardPurchase(cardOf(1), 1, nil), p.MAK)
		require.NoError(t, err)
		burst = append(burst, req...)
	}
	go func() {
		_ = c.Conn().SetWriteDeadline(time.Now().Add(20 * time.Second))
		_, _ = c.Conn().Write(burst) // about 250 KB at once
	}()
	go func() { _, _ = io.Copy(io.Discard, c.Conn()) }()
	require.Eventually(t, func() bool {
		return metric(g.scrape(), "ecardgw_pos_connections_closed_total", `reason="protocol"`) == 1
	}, 20*time.Second, 50*time.Millisecond)
	// What was approved before the close was debited, nothing more (once
	// the requests already in the workers have finished).
	var approved float64
	require.Eventually(t, func() bool {
		approved = metric(g.scrape(), "ecardgw_pos_requests_total", `mti="0200"`, `code="00"`)
		return int64(100000)-int64(approved) == g.balance(1)
	}, 5*time.Second, 50*time.Millisecond)
	require.Less(t, approved, 2000.0, "the sender was not stopped")
	g.requireServes(2)
}

// TestHalfFrameClosedWhenIdle: a connection that sends part of a frame and
// then nothing is closed by the idle timeout (counted as idle), so half
// frames cannot hold connections for ever.
func TestHalfFrameClosedWhenIdle(t *testing.T) {
	t.Setenv("ECARDGW_SERVER_IDLE_TIMEOUT", "1s")
	g := startGateway(t, gwOptions{})
	c, err := net.Dial("tcp", g.addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte{0x00, 0x40, 0x60, 0x00, 0x03}) // LEN says 64, five bytes sent
	require.NoError(t, err)
	start := time.Now()
	readUntilClosed(t, c, 10*time.Second)
	require.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond, "closed before the idle timeout")
	require.Eventually(t, func() bool {
		return metric(g.scrape(), "ecardgw_pos_connections_closed_total", `reason="idle"`) == 1
	}, 5*time.Second, 20*time.Millisecond)
}

// TestConnectionFloodCounted: connections over the cap are refused and
// counted by reason cap, and the cap frees up as they go.
func TestConnectionFloodCounted(t *testing.T) {
	t.Setenv("ECARDGW_SERVER_MAX_CONNS", "10")
	g := startGateway(t, gwOptions{})
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for range 10 {
		c, err := net.Dial("tcp", g.addr)
		require.NoError(t, err)
		held = append(held, c)
	}
	require.Eventually(t, func() bool { return g.d.POS.Conns() == 10 }, 5*time.Second, 10*time.Millisecond)
	for range 30 {
		c, err := net.Dial("tcp", g.addr)
		if err != nil {
			continue
		}
		readUntilClosed(t, c, 5*time.Second)
		_ = c.Close()
	}
	require.Equal(t, 30.0, metric(g.scrape(), "ecardgw_pos_connections_closed_total", `reason="cap"`))
	for _, c := range held {
		_ = c.Close()
	}
	held = nil
	require.Eventually(t, func() bool { return g.d.POS.Conns() == 0 }, 5*time.Second, 10*time.Millisecond)
	g.requireServes(1)
}
