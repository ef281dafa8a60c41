package daemon_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

var tmk = []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01}

// gwOptions shape a test gateway.
type gwOptions struct {
	terminals int    // canteen POS T0000001.. (default 4)
	extra     string // appended to the YAML
	accounts  int    // accounts 1..n with cards 1000000000NN (default 8)
	balance   int64
	mode      string // default standalone
	maxSize   int    // caps the store file (daemon.Options.StoreMaxSize), from the import on
	sndBuf    int    // daemon.Options.SocketSendBuffer
	kiosks    int    // top-up kiosks K0000001.. (default none)
	// defaultServer leaves the server section out: the gateway's
	// defaults (256 workers), not the tests' usual 4096.
	defaultServer bool
}

type gateway struct {
	t      *testing.T
	dir    string
	cfg    string
	d      *daemon.Daemon
	addr   string
	sndBuf int
}

func cardOf(i int) string  { return fmt.Sprintf("%012d", 100000000000+i) }
func termOf(i int) string  { return fmt.Sprintf("T%07d", i) }
func kioskOf(i int) string { return fmt.Sprintf("K%07d", i) }

// writeGatewayFiles writes a config and key file for a standalone gateway
// on free loopback ports and returns the config path.
func writeGatewayFiles(t testing.TB, dir string, o gwOptions) string {
	if o.terminals == 0 {
		o.terminals = 4
	}
	var cfg, keys strings.Builder
	if o.mode == "" {
		o.mode = "standalone"
	}
	fmt.Fprintf(&cfg, "mode: %s\nlisten: {pos: 127.0.0.1:0, admin: 127.0.0.1:0, service: 127.0.0.1:0}\n", o.mode)
	fmt.Fprintf(&cfg, "store: {path: %s}\nkeys: {file: %s}\nlog: {level: warn}\n", filepath.Join(dir, "gw.db"), filepath.Join(dir, "keys.yaml"))
	if !o.defaultServer {
		fmt.Fprintf(&cfg, "server: {max_conns: 20000, idle_timeout: 5m, workers: 4096, max_in_flight: 32}\n")
	}
	cfg.WriteString("terminals:\n")
	keys.WriteString("terminals:\n")
	for i := 1; i <= o.terminals; i++ {
		fmt.Fprintf(&cfg, "  - {id: %s, merchant: M00000000000001, type: pos}\n", termOf(i))
		fmt.Fprintf(&keys, "  %s: %s\n", termOf(i), strings.ToUpper(hex.EncodeToString(tmk)))
	}
	for i := 1; i <= o.kiosks; i++ {
		fmt.Fprintf(&cfg, "  - {id: %s, merchant: M00000000000003, type: kiosk}\n", kioskOf(i))
		fmt.Fprintf(&keys, "  %s: %s\n", kioskOf(i), strings.ToUpper(hex.EncodeToString(tmk)))
	}
	cfg.WriteString(o.extra)
	keys.WriteString("wallet_master_load_key: 0123456789ABCDEFFEDCBA9876543210\n")
	keys.WriteString("storage_key: " + strings.Repeat("ab", 32) + "\n")
	keys.WriteString("service_tokens: [" + strings.Repeat("t", 40) + "]\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys.yaml"), []byte(keys.String()), 0o600))
	path := filepath.Join(dir, "ecardgw.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg.String()), 0o600))
	return path
}

// importAccounts puts n accounts with balance into the store at path.
func importAccounts(t testing.TB, dbPath string, n int, balance int64, opt ...store.Options) {
	var o store.Options
	if len(opt) > 0 {
		o = opt[0]
	}
	db, err := store.Open(dbPath, o)
	require.NoError(t, err)
	rows := make([]store.Account, n)
	for i := range rows {
		c := cardOf(i + 1)
		rows[i] = store.Account{No: uint64(i + 1), Name: fmt.Sprintf("Student %d", i+1), CardNumber: c,
			CardSerial: "00000000" + c, BalanceFen: balance, Status: store.StatusActive}
	}
	_, _, err = db.ImportAccounts(context.Background(), rows)
	require.NoError(t, err)
	require.NoError(t, db.Close())
}

func startGateway(t *testing.T, o gwOptions) *gateway {
	t.Helper()
	if o.accounts == 0 {
		o.accounts = 8
	}
	if o.balance == 0 {
		o.balance = 100000
	}
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, o)
	importAccounts(t, filepath.Join(dir, "gw.db"), o.accounts, o.balance)
	g := &gateway{t: t, dir: dir, cfg: path, sndBuf: o.sndBuf}
	g.start()
	return g
}

func (g *gateway) start() { g.startB(g.t) }

func (g *gateway) startB(t testing.TB) {
	cfg, err := config.Load(g.cfg)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	d, err := daemon.New(cfg, keys, daemon.Options{ConfigPath: g.cfg, ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler),
		SocketSendBuffer: g.sndBuf})
	require.NoError(t, err)
	require.NoError(t, d.Start())
	g.d, g.addr = d, d.POSAddr().String()
	t.Cleanup(func() { _ = d.Stop() })
}

func (g *gateway) dial(term int) (*posclient.Terminal, *posclient.TCP) {
	g.t.Helper()
	c, err := posclient.Dial(g.addr, 5*time.Second)
	return g.terminal(term, c, err)
}

// dialReadBuffer is dial with a receive buffer of rcvBuf bytes from the
// handshake on (posclient.DialReadBuffer).
func (g *gateway) dialReadBuffer(term, rcvBuf int) (*posclient.Terminal, *posclient.TCP) {
	g.t.Helper()
	c, err := posclient.DialReadBuffer(g.addr, 5*time.Second, rcvBuf)
	return g.terminal(term, c, err)
}

func (g *gateway) terminal(term int, c *posclient.TCP, err error) (*posclient.Terminal, *posclient.TCP) {
	g.t.Helper()
	require.NoError(g.t, err)
	g.t.Cleanup(func() { _ = c.Close() })
	return &posclient.Terminal{ID: termOf(term), Merchant: "M00000000000001", TMK: tmk, T: c}, c
}

func (g *gateway) balance(acct uint64) int64 {
	var bal int64
	require.NoError(g.t, g.d.DB.View(func(tx *store.Tx) error {
		a, _, err := tx.Account(acct)
		bal = a.BalanceFen
		return err
	}))
	return bal
}

// iso8583AppendFrame re-encodes a request exactly as posclient sent it.
func iso8583AppendFrame(m *iso8583.Message, mak []byte) ([]byte, error) {
	return iso8583.AppendFrame(nil, m, mak)
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
