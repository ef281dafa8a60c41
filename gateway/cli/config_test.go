package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), old)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o600))
}

// TestConfigCheckCatchesBadKeyFile: a key file the gateway would refuse
// (a short TMK, then a mode others may read) fails the check with exit 1
// and the entry at fault, never the key.
func TestConfigCheckCatchesBadKeyFile(t *testing.T) {
	cfg, _ := writeOpsConfig(t)
	code, out, errOut := runCLI(t, "config", "check", "--config", cfg, "--admin", freeAddr(t))
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "configuration "+cfg+": ok")
	require.Contains(t, out, "no gateway answers at")

	keys := filepath.Join(filepath.Dir(cfg), "keys.yaml")
	rewrite(t, keys, "T0000001: "+strings.Repeat("11", 16), "T0000001: "+strings.Repeat("11", 15))
	code, out, errOut = runCLI(t, "config", "check", "--config", cfg, "--admin", freeAddr(t))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "terminals.T0000001: want 32 hex characters")
	require.NotContains(t, out+errOut, strings.Repeat("11", 15))

	rewrite(t, keys, "T0000001: "+strings.Repeat("11", 15), "T0000001: "+strings.Repeat("11", 16))
	require.NoError(t, os.Chmod(keys, 0o644))
	code, _, errOut = runCLI(t, "config", "check", "--config", cfg, "--admin", freeAddr(t))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "chmod 600")

	require.NoError(t, os.Chmod(keys, 0o600))
	rewrite(t, cfg, "  - {id: T0000001, merchant: M00000000000001, type: pos}",
		"  - {id: T0000001, merchant: M00000000000001, type: pos}\n  - {id: T0000002, merchant: M00000000000001, type: pos}")
	code, _, errOut = runCLI(t, "config", "check", "--config", cfg, "--admin", freeAddr(t))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no TMK in "+keys+" for T0000002")
}

// TestConfigCheckReadsTLSFiles: a CA file that exists but holds no
// certificate passes the configuration's own checks and would stop the
// gateway at start: the check reads it as the gateway does.
func TestConfigCheckReadsTLSFiles(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte("not a certificate\n"), 0o644))
	cfg, _ := writeOpsConfigWith(t, "127.0.0.1:0", "centre: {tls: {ca_file: "+ca+"}}\n", "")
	code, _, errOut := runCLI(t, "config", "check", "--config", cfg, "--admin", freeAddr(t))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "centre.tls: upstream TLS files: ca file "+ca+" holds no PEM certificate")
}

// TestConfigCheckShowsDiff: against a running gateway, the check lists
// what the files would change, which of it a reload applies and which
// needs a restart; a key shows as changed, never by value.
func TestConfigCheckShowsDiff(t *testing.T) {
	cfg, _ := writeOpsConfigAdmin(t, "127.0.0.1:0")
	_, admin := startOpsDaemon(t, cfg)

	code, out, errOut := runCLI(t, "config", "check", "--config", cfg, "--admin", admin)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "the running gateway at "+admin+" has this configuration")

	rewrite(t, cfg, "log: {level: warn}", "log: {level: warn}\nstandin: {per_txn_fen: 2000}\nserver: {max_conns: 500}")
	keys := filepath.Join(filepath.Dir(cfg), "keys.yaml")
	rewrite(t, keys, "T0000001: "+strings.Repeat("11", 16), "T0000001: "+strings.Repeat("22", 16))
	code, out, errOut = runCLI(t, "config", "check", "--config", cfg, "--admin", admin)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "  standin.per_txn_fen: 5000 -> 2000 (reload)\n")
	require.Contains(t, out, "  server.max_conns: 10000 -> 500 (restart)\n")
	require.Regexp(t, regexp.MustCompile(`  keys\.terminals\.T0000001: sha256:[0-9a-f]{8} -> sha256:[0-9a-f]{8} \(reload\)\n`), out)
	require.Contains(t, out, "a reload would be refused: a restart is needed for server.max_conns (systemctl restart ecardgw)")
	requireClean(t, out)
	require.NotContains(t, out, strings.Repeat("22", 16))

	rewrite(t, cfg, "server: {max_conns: 500}", "")
	code, out, _ = runCLI(t, "config", "check", "--config", cfg, "--admin", admin)
	require.Equal(t, 0, code)
	require.Contains(t, out, "systemctl reload ecardgw applies all of it")
}

// TestConfigCheckCannotCompare: a gateway answers but the comparison
// cannot be made (no admin token in the key file): the files are still
// reported valid, exit 0, and the line says why nothing was compared.
func TestConfigCheckCannotCompare(t *testing.T) {
	cfg, _ := writeOpsConfigWith(t, "127.0.0.1:0", "", "")
	_, admin := startOpsDaemon(t, cfg)
	code, out, errOut := runCLI(t, "config", "check", "--config", cfg, "--admin", admin)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "configuration "+cfg+": ok")
	require.Contains(t, out, "not compared with the gateway at "+admin+": that needs an admin token")
}

// TestConfigCheckUsesTheGatewaysEnvironment: a gateway started with an
// ECARDGW_* override (a unit's Environment= line) is compared with the
// file loaded with that override, as its reload would load it, not with
// the environment of the operator's shell.
func TestConfigCheckUsesTheGatewaysEnvironment(t *testing.T) {
	cfg, _ := writeOpsConfigAdmin(t, "127.0.0.1:0")
	t.Setenv("ECARDGW_STANDIN_PER_TXN_FEN", "1234")
	_, admin := startOpsDaemon(t, cfg)
	require.NoError(t, os.Unsetenv("ECARDGW_STANDIN_PER_TXN_FEN")) // the operator's shell has none
	code, out, errOut := runCLI(t, "config", "check", "--config", cfg, "--admin", admin)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "compared with the running gateway's environment overrides: ECARDGW_STANDIN_PER_TXN_FEN\n")
	require.Contains(t, out, "has this configuration: nothing to reload")
}

// TestConfigShow prints every effective value, says which come from the
// environment, and shows keys as fingerprints only.
func TestConfigShow(t *testing.T) {
	cfg, _ := writeOpsConfig(t)
	t.Setenv("ECARDGW_STANDIN_PER_TXN_FEN", "1234")
	code, out, errOut := runCLI(t, "config", "show", "--config", cfg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "# configuration "+cfg+"\n")
	require.Contains(t, out, "standin.per_txn_fen = 1234  # env ECARDGW_STANDIN_PER_TXN_FEN\n")
	require.Contains(t, out, "standin.per_account_fen = 20000\n")
	require.Contains(t, out, "terminals.T0000001.merchant = M00000000000001\n")
	require.Regexp(t, `keys\.storage_key = sha256:[0-9a-f]{8}\n`, out)
	require.Regexp(t, `keys\.admin_tokens\[0\] = sha256:[0-9a-f]{8}\n`, out)
	requireClean(t, out)
}

// TestConfigFallbackPath: without --config and ECARDGW_CONFIG, and with no
// ./var/ecardgw.yaml, the commands read /etc/ecardgw/ecardgw.yaml.
func TestConfigFallbackPath(t *testing.T) {
	cfg, _ := writeOpsConfig(t)
	old := systemConfigPath
	t.Cleanup(func() { systemConfigPath = old })
	systemConfigPath = cfg
	t.Setenv("ECARDGW_CONFIG", "")
	t.Chdir(t.TempDir())
	code, out, errOut := runCLI(t, "config", "show")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "# configuration "+cfg+"\n")

	require.NoError(t, os.Mkdir("var", 0o700))
	require.NoError(t, os.WriteFile("var/ecardgw.yaml", []byte("mode: standalone\nkeys: {file: "+
		filepath.Join(filepath.Dir(cfg), "keys.yaml")+"}\nlog: {level: error}\n"), 0o600))
	code, out, errOut = runCLI(t, "config", "show")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "# configuration ./var/ecardgw.yaml\n", "./var first, as make run and demo init write it")
}
