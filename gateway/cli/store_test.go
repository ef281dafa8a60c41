package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func checkOut(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"store", "check"}, args...)...)
	require.Equal(t, 0, code, errOut)
	return out
}

func TestStoreBackupOnline(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 20)
	d, addr := startOpsDaemon(t, cfg)
	appendOps(t, d.DB, 21, 25) // written while running: in the copy
	file := filepath.Join(t.TempDir(), "backup.db")
	code, out, errOut := runCLI(t, "store", "backup", file, "--config", cfg, "--admin", addr)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^backup .*backup.db: \d+ bytes, verified \(from the running gateway at `, out)
	st, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.Contains(t, checkOut(t, file), "journal length  25 records")

	code, _, errOut = runCLI(t, "store", "backup", file, "--config", cfg, "--admin", addr)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "file exists")
	code, _, errOut = runCLI(t, "store", "backup", file, "--config", cfg, "--admin", addr, "--force")
	require.Equal(t, 0, code, errOut)
}

func TestStoreBackupOffline(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 7)
	file := filepath.Join(t.TempDir(), "backup.db")
	code, out, errOut := runCLI(t, "store", "backup", file, "--config", cfg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "verified (from "+db+")")
	require.Contains(t, checkOut(t, file), "journal length  7 records")

	code, _, errOut = runCLI(t, "store", "backup", db, "--config", cfg, "--force")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "the store itself")
}

func TestStoreRestore(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 10)
	file := filepath.Join(t.TempDir(), "backup.db")
	code, _, errOut := runCLI(t, "store", "backup", file, "--config", cfg)
	require.Equal(t, 0, code, errOut)

	d, _ := startOpsDaemon(t, cfg)
	appendOps(t, d.DB, 11, 15)
	code, _, errOut = runCLI(t, "store", "restore", file, "--config", cfg)
	require.Equal(t, 1, code, "refused while the gateway runs")
	require.Contains(t, errOut, "locked")
	require.Contains(t, errOut, "systemctl stop ecardgw")
	require.NoError(t, d.Stop())
	require.Contains(t, checkOut(t, "--config", cfg), "journal length  15 records")

	code, out, errOut := runCLI(t, "store", "restore", file, "--config", cfg)
	require.Equal(t, 0, code, errOut)
	kept := regexp.MustCompile(`kept as (\S+)`).FindStringSubmatch(out)
	require.Len(t, kept, 2, out)
	require.Regexp(t, `gw\.db\.before-restore-\d{8}T\d{6}Z$`, kept[1])
	require.Contains(t, checkOut(t, "--config", cfg), "journal length  10 records")
	require.Contains(t, checkOut(t, kept[1]), "journal length  15 records")
	startOpsDaemon(t, cfg) // the restored store serves
}

func TestStoreRestoreRefusesGarbage(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 2)
	bad := filepath.Join(t.TempDir(), "bad.db")
	require.NoError(t, os.WriteFile(bad, make([]byte, 16384), 0o600))
	code, _, errOut := runCLI(t, "store", "restore", bad, "--config", cfg)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "bad.db")
	require.Contains(t, checkOut(t, "--config", cfg), "journal length  2 records")
}

func TestStoreCheck(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 4)
	out := checkOut(t, "--config", cfg)
	require.Contains(t, out, db+": ok")
	require.Contains(t, out, fmt.Sprintf("schema version  %d (this gateway writes %d)", store.SchemaVersion, store.SchemaVersion))
	require.Contains(t, out, "outbox          4 records, oldest journaled 2026-11-25T08:00:00Z")

	startOpsDaemon(t, cfg)
	code, _, errOut := runCLI(t, "store", "check", "--config", cfg)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "a running gateway holds it")

	for _, args := range [][]string{{"store"}, {"store", "backup"}, {"store", "restore"}, {"store", "check", "a", "b"}} {
		code, _, _ := runCLI(t, args...)
		require.Equal(t, 2, code, args)
	}
}
