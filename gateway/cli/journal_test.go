package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/inspect"
)

// seqsOf returns the first field of each text line.
func seqsOf(out string) []string {
	var s []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			s = append(s, f[0])
		}
	}
	return s
}

func TestJournalTailOffline(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 30)
	code, out, errOut := runCLI(t, "journal", "tail", "--config", cfg, "-n", "5")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, []string{"26", "27", "28", "29", "30"}, seqsOf(out))
	requireClean(t, out)

	code, _, errOut = runCLI(t, "journal", "tail", "--config", cfg, "--follow")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "--follow needs a running gateway")
}

func TestJournalTailFollowOnline(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 5)
	d, addr := startOpsDaemon(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := NewRoot()
	root.SetContext(ctx)
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- execute(root, []string{"journal", "tail", "--config", cfg, "--admin", addr, "-n", "2", "-f", "--interval", "20ms"}, &out, &errOut)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "\n       5  ") }, 10*time.Second, 10*time.Millisecond)
	appendOps(t, d.DB, 6, 7)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "\n       7  ") }, 10*time.Second, 10*time.Millisecond)
	appendOps(t, d.DB, 8, 8)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "\n       8  ") }, 10*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("tail --follow did not stop when cancelled")
	}
	require.Equal(t, []string{"4", "5", "6", "7", "8"}, seqsOf(out.String()), "no record skipped or repeated")
	requireClean(t, out.String())
}

func TestJournalTailFollowCSVHasOneHeader(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 2)
	d, addr := startOpsDaemon(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := NewRoot()
	root.SetContext(ctx)
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- execute(root, []string{"journal", "tail", "--config", cfg, "--admin", addr, "-n", "1", "-f", "--interval", "20ms", "--format", "csv"}, &out, &errOut)
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "\n2,") }, 10*time.Second, 10*time.Millisecond)
	appendOps(t, d.DB, 3, 3)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "\n3,") }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // a few empty polls: each answer repeats the header
	cancel()
	require.Equal(t, 0, <-done, errOut.String())
	rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3, out.String())
	require.Equal(t, inspect.CSVColumns, rows[0])
}

// The same export read from the store file and through the running
// gateway is the same file.
func TestJournalExportOfflineEqualsOnline(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 60)
	dir := t.TempDir()
	args := func(out, format string) []string {
		return []string{"journal", "export", "--config", cfg, "--since", "10", "--until", opsT0.Add(49 * time.Second).Format(time.RFC3339),
			"--format", format, "--out", filepath.Join(dir, out)}
	}
	for _, f := range []string{"csv", "json"} {
		code, _, errOut := runCLI(t, args("offline."+f, f)...)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, errOut, "exported 40 records (from "+db+")")
	}
	_, addr := startOpsDaemon(t, cfg)
	for _, f := range []string{"csv", "json"} {
		code, _, errOut := runCLI(t, append(args("online."+f, f), "--admin", addr)...)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, errOut, "exported 40 records (from the running gateway at "+addr+")")
		offline, err := os.ReadFile(filepath.Join(dir, "offline."+f))
		require.NoError(t, err)
		online, err := os.ReadFile(filepath.Join(dir, "online."+f))
		require.NoError(t, err)
		require.Equal(t, string(offline), string(online))
		requireClean(t, string(online))
	}

	rows, err := csv.NewReader(strings.NewReader(mustRead(t, filepath.Join(dir, "online.csv")))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 41)
	require.Equal(t, inspect.CSVColumns, rows[0])
	require.Equal(t, "10", rows[1][0])
	require.Equal(t, "2026-11-25T08:00:09Z", rows[1][1])
	require.Equal(t, "10", rows[1][11], "amount_fen")
	require.Equal(t, "49", rows[40][0])

	line := strings.SplitN(mustRead(t, filepath.Join(dir, "online.json")), "\n", 2)[0]
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &rec))
	require.Equal(t, float64(10), rec["seq"])
	require.Equal(t, "10******0042", rec["card_masked"])
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestJournalExportToStdout(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 3)
	code, out, errOut := runCLI(t, "journal", "export", "--config", cfg, "--since", "2026-11-25", "--format", "json")
	require.Equal(t, 0, code, errOut)
	require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 3)
	require.Contains(t, errOut, "exported 3 records")
}

func TestJournalUsage(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 1)
	for name, args := range map[string][]string{
		"no subcommand": {"journal"},
		"no since":      {"journal", "export"},
		"bad since":     {"journal", "export", "--since", "yesterday"},
		"bad until":     {"journal", "export", "--since", "1", "--until", "later"},
		"bad format":    {"journal", "export", "--since", "1", "--format", "xml"},
		"bad n":         {"journal", "tail", "-n", "0"},
		"tail args":     {"journal", "tail", "x"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append(args, "--config", cfg)...)
			require.Equal(t, 2, code, errOut)
			require.Empty(t, out)
		})
	}
}

// A gateway whose admin listener is not where the configuration says
// still holds the store: the command says so instead of waiting forever.
func TestJournalExportLockedWithoutAdmin(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 1)
	startOpsDaemon(t, cfg) // admin on a random port; the configuration says :0
	out := filepath.Join(t.TempDir(), "x.csv")
	code, _, errOut := runCLI(t, "journal", "export", "--config", cfg, "--since", "1", "--out", out)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "admin listener does not answer")
	require.Contains(t, errOut, "--admin")
	require.NoFileExists(t, out)
	require.NoFileExists(t, out+".tmp")
}
