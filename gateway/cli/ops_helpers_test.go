package cli

import (
	"bytes"
	"context"
	"ecardgw/gateway/logging/logtest"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/store"
)

// opsT0 is the journal time of seeded record 1; record i is i s later.
var opsT0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// opsCard is the full card number of seeded records; it must never appear
// in any output.
const opsCard = "100000000042"

// writeOpsConfig writes a standalone configuration on free loopback ports
// with its key file and returns the configuration's path and the store's.
func writeOpsConfig(t *testing.T) (cfgPath, dbPath string) {
	t.Helper()
	return writeOpsConfigAdmin(t, "127.0.0.1:0")
}

// opsAdminToken is the admin token of the test key file.
const opsAdminToken = "adm-token-0123456789abcdefghijklmnopqrstuv"

// writeOpsConfigAdmin is writeOpsConfig with the admin listener at admin.
func writeOpsConfigAdmin(t *testing.T, admin string) (cfgPath, dbPath string) {
	t.Helper()
	return writeOpsConfigWith(t, admin, "", "admin_tokens: ["+opsAdminToken+"]\n")
}

// writeOpsConfigWith is writeOpsConfigAdmin with extra configuration and
// extra key file entries appended.
func writeOpsConfigWith(t *testing.T, admin, extraCfg, extraKeys string) (cfgPath, dbPath string) {
	t.Helper()
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "gw.db")
	keys := filepath.Join(dir, "keys.yaml")
	cfg := fmt.Sprintf(`mode: standalone
listen: {pos: 127.0.0.1:0, admin: %s, service: 127.0.0.1:0}
store: {path: %s}
keys: {file: %s}
log: {level: warn}
terminals:
  - {id: T0000001, merchant: M00000000000001, type: pos}
`, admin, dbPath, keys) + extraCfg
	key := strings.Repeat("11", 16)
	require.NoError(t, os.WriteFile(keys, []byte("terminals:\n  T0000001: "+key+
		"\nwallet_master_load_key: 0123456789ABCDEFFEDCBA9876543210\nstorage_key: "+strings.Repeat("ab", 32)+
		"\nservice_tokens: ["+strings.Repeat("t", 40)+"]\n"+extraKeys), 0o600))
	cfgPath = filepath.Join(dir, "ecardgw.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o600))
	return cfgPath, dbPath
}

func opsRecord(i int) *store.Record {
	return &store.Record{
		Time: opsT0.Add(time.Duration(i-1) * time.Second),
		Key:  store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: uint32(i), MTI: 200},
		Kind: store.KindPurchase, Account: 1, CardMasked: "10******0042", Channel: "card",
		Amount: int64(i), Resp: "00", RRN: fmt.Sprintf("%012d", i), BalanceAfter: 100000 - int64(i),
		Note: "card " + opsCard, // a careless writer: exports must mask it
	}
}

func appendOps(t *testing.T, db *store.DB, from, to int) {
	t.Helper()
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		for i := from; i <= to; i++ {
			if _, err := tx.AppendJournal(opsRecord(i)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// seedStore creates the store with n journal records.
func seedStore(t *testing.T, dbPath string, n int) {
	t.Helper()
	db, err := store.Open(dbPath, store.Options{})
	require.NoError(t, err)
	appendOps(t, db, 1, n)
	require.NoError(t, db.Close())
}

// startOpsDaemon runs a gateway in-process on cfgPath; it returns the
// daemon (its store is d.DB) and its admin address.
func startOpsDaemon(t *testing.T, cfgPath string) (*daemon.Daemon, string) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	d, err := daemon.New(cfg, keys, daemon.Options{Version: "v0.0.0-test", ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, d.Start())
	t.Cleanup(func() { _ = d.Stop() })
	return d, d.Admin.Addr()
}

// requireClean fails when output carries the full card number or a key.
func requireClean(t *testing.T, out string) {
	t.Helper()
	require.NotContains(t, out, opsCard)
	require.NotContains(t, strings.ToLower(out), strings.Repeat("ab", 32))
	require.NotContains(t, strings.ToLower(out), hex.EncodeToString(bytes.Repeat([]byte{0x11}, 16)))
	require.NotContains(t, out, opsAdminToken)
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// syncBuffer is written by a command's goroutine while the test reads it.
type syncBuffer = logtest.Buffer
