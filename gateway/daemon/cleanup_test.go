package daemon_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/forward/natstest"
	"ecardgw/store"
)

// relay passes TCP connections through to another address and counts
// those the client still holds open, so a test sees whether the gateway
// closed its connections.
type relay struct {
	ln     net.Listener
	to     string
	opened atomic.Int64 // connections accepted
	open   atomic.Int64 // connections the client has not closed
}

func startRelay(t *testing.T, to string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &relay{ln: ln, to: to}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.opened.Add(1)
			r.open.Add(1)
			go r.pass(c)
		}
	}()
	return r
}

func (r *relay) addr() string { return r.ln.Addr().String() }

// pass copies both ways until the client closes (or the server does).
func (r *relay) pass(c net.Conn) {
	defer r.open.Add(-1)
	defer c.Close()
	up, err := net.Dial("tcp", r.to)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		_, _ = io.Copy(c, up)
		_ = c.Close()
	}()
	_, _ = io.Copy(up, c)
}

// freeAddr is a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func loadGatewayConfig(t *testing.T, path string) (*config.Config, *config.Keys) {
	cfg, err := config.Load(path)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	return cfg, keys
}

// TestFailedNewReleasesEverything: when New fails after it has connected
// to NATS (the POS server refuses its options, the last step), it closes
// the NATS connections (record sink and replay bucket) and the store, so
// the store opens again at once.
func TestFailedNewReleasesEverything(t *testing.T) {
	ns := natstest.Start(t)
	r := startRelay(t, strings.TrimPrefix(ns.URL(), "nats://"))
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1,
		extra: fmt.Sprintf("forward: {nats: {url: %q, stream: ECARDGW, subject: ecardgw.records, replay_bucket: CAMPUSCODES}}\n",
			"nats://"+r.addr())})
	db := filepath.Join(dir, "gw.db")
	importAccounts(t, db, 2, 1000)
	cfg, keys := loadGatewayConfig(t, path)
	// Beyond what LEN can carry: the configuration check would refuse it,
	// the POS server (built after the upstream) refuses it too.
	cfg.Server.MaxFrame = 0x10000

	d, err := daemon.New(cfg, keys, daemon.Options{ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	require.Error(t, err)
	require.Nil(t, d)
	require.GreaterOrEqual(t, r.opened.Load(), int64(2), "New connected the sink and the replay bucket before it failed")
	require.Eventually(t, func() bool { return r.open.Load() == 0 }, 5*time.Second, 10*time.Millisecond,
		"a failed New leaves its NATS connections open")

	s, err := store.Open(db, store.Options{})
	require.NoError(t, err, "a failed New leaves the store open")
	require.NoError(t, s.Close())
}

// TestFailedStartReleasesEverything: when Start fails, at the card readers
// (a reader bound to a terminal that is not configured) or at the POS
// listener (its port taken), no listener is left open (the ports can be
// bound again at once) and the store is closed.
func TestFailedStartReleasesEverything(t *testing.T) {
	cases := []struct {
		name  string
		extra string
		taken bool // the POS port is in use
		want  []string
	}{
		{"card readers", "cardio: {enabled: true, readers: [{match: \"Virtual PCD\", terminal: D0000001, role: desk}]}\n",
			false, []string{"card readers", "D0000001"}},
		{"POS port taken", "", true, []string{"POS listener"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, extra: tc.extra})
			db := filepath.Join(dir, "gw.db")
			importAccounts(t, db, 2, 1000)
			cfg, keys := loadGatewayConfig(t, path)
			cfg.Listen = config.Listen{POS: freeAddr(t), Admin: freeAddr(t), Service: freeAddr(t)}
			free := []string{cfg.Listen.POS, cfg.Listen.Admin, cfg.Listen.Service}
			if tc.taken {
				ln, err := net.Listen("tcp", cfg.Listen.POS)
				require.NoError(t, err)
				t.Cleanup(func() { _ = ln.Close() })
				free = free[1:]
			}

			d, err := daemon.New(cfg, keys, daemon.Options{ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			err = d.Start()
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}

			for _, addr := range free {
				ln, err := net.Listen("tcp", addr)
				require.NoError(t, err, "a failed Start leaves %s open", addr)
				require.NoError(t, ln.Close())
			}
			s, err := store.Open(db, store.Options{})
			require.NoError(t, err, "a failed Start leaves the store open")
			require.NoError(t, s.Close())
			require.NoError(t, d.Stop(), "Stop after a failed Start has nothing left to release")
			require.Error(t, d.Start(), "a daemon does not start again")
		})
	}
}
