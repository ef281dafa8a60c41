package daemon_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
)

func TestEndToEndOverTCP(t *testing.T) {
	g := startGateway(t, gwOptions{})
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 1234, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(100000-1234), g.balance(1))

	resp, err = p.Echo(ctx)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))

	// Health and metrics on the admin listener.
	res, err := http.Get("http://" + g.d.Admin.Addr() + "/readyz")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, 200, res.StatusCode, string(body))
	res, err = http.Get("http://" + g.d.Admin.Addr() + "/metrics")
	require.NoError(t, err)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	require.Contains(t, string(body), `ecardgw_pos_requests_total`)
}

// frames builds n signed purchase frames of terminal p.
func frames(t *testing.T, p *posclient.Terminal, n int, amount int64) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		b, err := iso8583.AppendFrame(nil, p.CardPurchase(cardOf(1), amount, nil), p.MAK)
		require.NoError(t, err)
		out[i] = b
	}
	return out
}

func readAnswers(t *testing.T, c net.Conn, n int) []*iso8583.Message {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	out := make([]*iso8583.Message, n)
	for i := range out {
		raw, err := posclient.ReadFrame(c)
		require.NoError(t, err)
		m := new(iso8583.Message)
		require.NoError(t, iso8583.DecodeFrame(m, raw))
		out[i] = m
	}
	return out
}

func TestSplitAndCoalescedFrames(t *testing.T) {
	g := startGateway(t, gwOptions{})
	p, c := g.dial(1)
	_, err := p.SignIn(context.Background(), 1)
	require.NoError(t, err)

	// Ten frames in one write: ten answers, in order.
	fs := frames(t, p, 10, 1)
	var all []byte
	for _, f := range fs {
		all = append(all, f...)
	}
	_, err = c.Conn().Write(all)
	require.NoError(t, err)
	for i, a := range readAnswers(t, c.Conn(), 10) {
		require.Equal(t, "00", string(a.Bytes(39)))
		s, _ := a.STAN()
		require.Equal(t, uint32(p.STAN-9+uint32(i)), s, "answers leave in request order")
	}
	// One frame byte by byte.
	f := frames(t, p, 1, 1)[0]
	for i := range f {
		_, err := c.Conn().Write(f[i : i+1])
		require.NoError(t, err)
		if i%7 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	a := readAnswers(t, c.Conn(), 1)[0]
	require.Equal(t, "00", string(a.Bytes(39)))
	require.Equal(t, int64(100000-11), g.balance(1))
}

func TestHalfFramesDoNotStallOthers(t *testing.T) {
	g := startGateway(t, gwOptions{})
	var conns []net.Conn
	for range 200 {
		c, err := net.Dial("tcp", g.addr)
		require.NoError(t, err)
		conns = append(conns, c)
		_, err = c.Write([]byte{0x00, 0x40, 0x60, 0x00, 0x03, 0x00}) // LEN says 64, six bytes sent
		require.NoError(t, err)
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	p, _ := g.dial(2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(2), 5, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
}

func TestConnectionFloodOverCap(t *testing.T) {
	const cfgCap = 50
	g3dir := t.TempDir()
	path := writeGatewayFiles(t, g3dir, gwOptions{terminals: 2})
	importAccounts(t, g3dir+"/gw.db", 4, 1000)
	// The YAML says 20000; the operator's environment override wins.
	t.Setenv("ECARDGW_SERVER_MAX_CONNS", "50")
	g3 := &gateway{t: t, dir: g3dir, cfg: path}
	g3.start()

	var mu sync.Mutex
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for range cfgCap {
		c, err := net.Dial("tcp", g3.addr)
		require.NoError(t, err)
		held = append(held, c)
	}
	require.Eventually(t, func() bool { return g3.d.POS.Conns() == cfgCap }, 5*time.Second, 10*time.Millisecond)
	// Over the cap: accepted by the kernel, closed by the gateway at once.
	var wg sync.WaitGroup
	closed := 0
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", g3.addr)
			if err != nil {
				mu.Lock()
				closed++
				mu.Unlock()
				return
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			var b [1]byte
			if _, err := c.Read(b[:]); err != nil {
				mu.Lock()
				closed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 100, closed)
	// Release one held connection: a terminal is served again.
	_ = held[0].Close()
	held = held[1:]
	require.Eventually(t, func() bool { return g3.d.POS.Conns() < cfgCap }, 5*time.Second, 10*time.Millisecond)
	p, _ := g3.dial(1)
	_, err := p.SignIn(context.Background(), 1)
	require.NoError(t, err)
}
