package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/store"
	"ecardgw/store/accountscsv"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Mode().Perm()
}

// secretsOf lists the key file's secrets as text, to prove output never
// contains them.
func secretsOf(k *config.Keys) []string {
	out := []string{hex.EncodeToString(k.WalletMasterLoadKey), hex.EncodeToString(k.StorageKey)}
	for _, tmk := range k.Terminals {
		out = append(out, hex.EncodeToString(tmk))
	}
	for _, tok := range k.ServiceTokens {
		out = append(out, string(tok))
	}
	for _, tok := range k.AdminTokens {
		out = append(out, string(tok))
	}
	return out
}

func TestDemoInitRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := runCLI(t, "demo", "init", "--dir", "./var")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "created ./var (mode 0700)")

	require.Equal(t, os.FileMode(0o700), mode(t, "var"))
	require.Equal(t, os.FileMode(0o600), mode(t, "var/keys.yaml"))
	require.Equal(t, os.FileMode(0o600), mode(t, "var/ecardgw.yaml"))
	require.Equal(t, os.FileMode(0o600), mode(t, "var/accounts.csv"))

	// The default --config finds it, and it is what the gateway accepts.
	cfg, err := config.Load(defaultConfigPath)
	require.NoError(t, err)
	require.Equal(t, config.ModeStandalone, cfg.Mode)
	require.Equal(t, "./var/ecardgw.db", cfg.Store.Path)
	require.Equal(t, "./var/keys.yaml", cfg.Keys.File)
	require.Equal(t, config.Listen{POS: "127.0.0.1:8583", Admin: "127.0.0.1:9100", Service: "127.0.0.1:9200"}, cfg.Listen)
	require.Equal(t, demoTerminals, cfg.Terminals)
	bath, ok := cfg.Terminal("S0000001")
	require.True(t, ok)
	require.Equal(t, "Xiaoying bath house", bath.Location)
	require.Equal(t, config.TerminalSettlement, bath.Type)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	require.NoError(t, cfg.CheckKeys(keys))
	require.Len(t, keys.ServiceTokens, 1)
	require.GreaterOrEqual(t, len(keys.ServiceTokens[0]), config.MinServiceTokenLen)
	// The online journal and backup commands send an admin token from it.
	require.Len(t, keys.AdminTokens, 1)
	require.GreaterOrEqual(t, len(keys.AdminTokens[0]), config.MinServiceTokenLen)
	require.False(t, keys.AdminTokens[0].Equal(keys.ServiceTokens[0]))
	require.Contains(t, out, "1 admin token (admin_tokens)")

	for _, s := range secretsOf(keys) {
		require.NotContains(t, strings.ToLower(out), strings.ToLower(s[:16]))
	}
}

func TestDemoAccountsCSV(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	require.NoError(t, writeDemo(dir, false, new(bytes.Buffer)))
	raw, err := os.ReadFile(filepath.Join(dir, "accounts.csv"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(raw), "account,name,card_number,card_serial,balance_fen,status,staff_no\n"))

	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	statuses := map[string]int{}
	for _, r := range recs[1:] {
		require.Len(t, r[3], 20)
		require.Equal(t, r[2], r[3][8:], "card number is the last 12 digits of the serial")
		statuses[r[5]]++
	}
	require.GreaterOrEqual(t, len(recs)-1, 8)
	require.Equal(t, 1, statuses["frozen"])
	require.Equal(t, 1, statuses["lost"])

	// The importer is the judge of the format.
	rows, err := accountscsv.Parse(bytes.NewReader(raw))
	require.NoError(t, err)
	require.Len(t, rows, len(recs)-1)
	require.Equal(t, store.StatusFrozen, rows[4].Status)
	require.Equal(t, store.StatusLost, rows[5].Status)
}

func TestDemoInitIdempotentAndForce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	var out bytes.Buffer
	require.NoError(t, writeDemo(dir, false, &out))
	before := map[string][]byte{}
	for _, p := range demoParts {
		b, err := os.ReadFile(filepath.Join(dir, p.name))
		require.NoError(t, err)
		before[p.name] = b
	}

	out.Reset()
	require.NoError(t, writeDemo(dir, false, &out))
	require.Equal(t, len(demoParts), strings.Count(out.String(), "kept "), out.String())
	require.NotContains(t, out.String(), "wrote ")
	for _, p := range demoParts {
		b, err := os.ReadFile(filepath.Join(dir, p.name))
		require.NoError(t, err)
		require.Equal(t, before[p.name], b, p.name)
	}

	// A missing part is written again; the others stay.
	require.NoError(t, os.Remove(filepath.Join(dir, "accounts.csv")))
	out.Reset()
	require.NoError(t, writeDemo(dir, false, &out))
	require.Contains(t, out.String(), "accounts.csv (mode 0600)")
	require.Equal(t, len(demoParts)-1, strings.Count(out.String(), "kept "))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "ecardgw.db"), nil, 0o600))
	out.Reset()
	require.NoError(t, writeDemo(dir, true, &out))
	require.Equal(t, len(demoParts), strings.Count(out.String(), "wrote "))
	require.Contains(t, out.String(), "sign in again")
	after, err := os.ReadFile(filepath.Join(dir, "keys.yaml"))
	require.NoError(t, err)
	require.NotEqual(t, before["keys.yaml"], after, "--force makes fresh keys")
	require.Equal(t, os.FileMode(0o600), mode(t, filepath.Join(dir, "keys.yaml")))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasSuffix(e.Name(), ".tmp"), "temporary file left: %s", e.Name())
	}
}

// An absolute --dir gives absolute paths, so the gateway may run anywhere.
func TestDemoInitAbsolute(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	require.NoError(t, writeDemo(dir, false, new(bytes.Buffer)))
	t.Chdir(t.TempDir())
	cfg, err := config.Load(filepath.Join(dir, "ecardgw.yaml"))
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "ecardgw.db"), cfg.Store.Path)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	require.NoError(t, cfg.CheckKeys(keys))
}

func TestDemoPathsShownRelative(t *testing.T) {
	for dir, want := range map[string]string{
		"./var":       "./var/keys.yaml",
		"var":         "./var/keys.yaml",
		".":           "./keys.yaml",
		"../x":        "../x/keys.yaml",
		"/srv/ecard/": "/srv/ecard/keys.yaml",
	} {
		d := &demoSetup{dir: filepath.Clean(dir)}
		require.Equal(t, want, d.path("keys.yaml"), dir)
	}
}
