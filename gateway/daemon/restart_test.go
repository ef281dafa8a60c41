package daemon_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// pinListeners rewrites the configuration at cfg so that the POS and admin
// listeners bind the addresses the running gateway p got for port 0: the
// next start then binds the same ports, as a restart of a production
// gateway does.
func pinListeners(t *testing.T, cfg string, p *proc) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	s := strings.Replace(string(b), "pos: 127.0.0.1:0", "pos: "+p.addr, 1)
	s = strings.Replace(s, "admin: 127.0.0.1:0", "admin: "+p.admin, 1)
	require.NoError(t, os.WriteFile(cfg, []byte(s), 0o600))
}

// dialRetry connects to addr, retrying every 10 ms for up to limit while
// nothing listens there yet: a terminal reconnecting after its gateway
// went away.
func dialRetry(addr string, limit time.Duration) (*posclient.TCP, error) {
	deadline := time.Now().Add(limit)
	for {
		c, err := posclient.Dial(addr, time.Second)
		if err == nil || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKill9RestartSamePortWithLiveConnections is a gateway killed with
// SIGKILL while 1,000 signed-in terminals are connected and sending, and
// started again at once on the same configuration and so the same ports,
// while every terminal still holds its old, half-closed connection (the
// server side of each sits in FIN_WAIT2 or TIME_WAIT on the POS port). The
// new process must listen within a second; all 1,000 terminals reconnect
// at once and their next purchases are approved under the keys they
// already hold (sealed sessions, no sign-in); then all of them sign in
// again at once, as terminals that decide to on their own do, and the
// sign-in storm limit turns none of them away.
func TestKill9RestartSamePortWithLiveConnections(t *testing.T) {
	skipKill9InShort(t)
	const terms = 1000
	bin := buildGateway(t)
	dir := t.TempDir()
	cfg := writeGatewayFiles(t, dir, gwOptions{terminals: terms})
	importAccounts(t, filepath.Join(dir, "gw.db"), terms, 1_000_000)

	p := startProc(t, bin, cfg)
	pinListeners(t, cfg, p)
	pos := make([]*posclient.Terminal, terms)
	old := make([]*posclient.TCP, terms)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range pos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := posclient.Dial(p.addr, 5*time.Second)
			if !assert.NoError(t, err) {
				return
			}
			old[i] = c
			pos[i] = &posclient.Terminal{ID: termOf(i + 1), Merchant: "M00000000000001", TMK: tmk, T: c}
			_, err = pos[i].SignIn(context.Background(), 1)
			assert.NoError(t, err, "sign-in %s", pos[i].ID)
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())

	// Load until the kill: every terminal sends purchases back to back, so
	// requests are in flight when the process dies.
	var sent atomic.Int64
	stop := make(chan struct{})
	for i := range pos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _, err := pos[i].Send(context.Background(), pos[i].CardPurchase(cardOf(i+1), 1, nil), true)
				if err != nil {
					return // the gateway died; the connection stays open
				}
				sent.Add(1)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	p.kill9()
	close(stop)
	wg.Wait()
	require.Positive(t, sent.Load(), "no purchase before the kill")

	// Started again at once, old connections still held by the terminals.
	p = startProc(t, bin, cfg)
	t.Logf("restarted: listening %v after exec", p.listening)
	require.Less(t, p.listening, time.Second, "the restarted gateway took too long to listen")
	defer p.term(t)
	for _, c := range old {
		defer c.Close()
	}

	// Every terminal reconnects at once and purchases with its old keys.
	var signIns atomic.Int64
	var newConns []*posclient.TCP
	var mu sync.Mutex
	for i := range pos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialRetry(p.addr, 10*time.Second)
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			newConns = append(newConns, c)
			mu.Unlock()
			term := pos[i]
			term.T = c
			resp, _, err := term.Send(context.Background(), term.CardPurchase(cardOf(i+1), 1, nil), true)
			if assert.NoError(t, err, term.ID) {
				assert.Equal(t, "00", posclient.RC(resp), "%s: purchase with the old session after the restart", term.ID)
			}
			// The terminal signs in again on its own (a new batch).
			resp, err = term.SignIn(context.Background(), 2)
			if assert.NoError(t, err, "%s: sign-in after the restart (%s)", term.ID, rcOf(resp)) {
				signIns.Add(1)
			}
			resp, _, err = term.Send(context.Background(), term.CardPurchase(cardOf(i+1), 1, nil), true)
			if assert.NoError(t, err, term.ID) {
				assert.Equal(t, "00", posclient.RC(resp), "%s: purchase under the new keys", term.ID)
			}
		}()
	}
	wg.Wait()
	for _, c := range newConns {
		defer c.Close()
	}
	require.EqualValues(t, terms, signIns.Load(), "sign-ins after the restart turned away")
}

func rcOf(resp *iso8583.Message) string {
	if resp == nil {
		return "no answer"
	}
	return posclient.RC(resp)
}

// TestKill9RestartRebindsAtOnce restarts a killed gateway five times in a
// row on the same ports, each time while terminals keep their connections
// half-open; every start must listen on the first try.
func TestKill9RestartRebindsAtOnce(t *testing.T) {
	skipKill9InShort(t)
	const terms = 8
	bin := buildGateway(t)
	dir := t.TempDir()
	cfg := writeGatewayFiles(t, dir, gwOptions{terminals: terms})
	importAccounts(t, filepath.Join(dir, "gw.db"), terms, 1_000_000)
	p := startProc(t, bin, cfg)
	pinListeners(t, cfg, p)
	var held []*posclient.TCP
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for cycle := range 5 {
		for i := 1; i <= terms; i++ {
			c, err := dialRetry(p.addr, 5*time.Second)
			require.NoError(t, err)
			held = append(held, c)
			term := &posclient.Terminal{ID: termOf(i), Merchant: "M00000000000001", TMK: tmk, T: c}
			_, err = term.Echo(context.Background())
			require.NoError(t, err)
		}
		p.kill9()
		p = startProc(t, bin, cfg)
		require.Less(t, p.listening, time.Second, "cycle %d", cycle)
	}
	p.term(t)
}

// TestSecondGatewayOnOneStoreRefused: a second gateway pointed at a store
// that a running gateway holds refuses to start, and says why.
func TestSecondGatewayOnOneStoreRefused(t *testing.T) {
	g := startGateway(t, gwOptions{})
	defer g.d.Stop()
	cfg, err := config.Load(g.cfg)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	t0 := time.Now()
	_, err = daemon.New(cfg, keys, daemon.Options{})
	require.Error(t, err)
	require.True(t, errors.Is(err, store.ErrLocked), "%v", err)
	require.Contains(t, err.Error(), "another ecardgw")
	require.Contains(t, err.Error(), cfg.Store.Path)
	require.Less(t, time.Since(t0), 5*time.Second)
}
