package config

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const (
	tmk1    = "00112233445566778899aabbccddeeff"
	tmk2    = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	wallet  = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	storage = "5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99887766554433221100"
	token   = "svc-token-0123456789abcdefghijklmnopqrstuv"
	admTok  = "adm-token-0123456789abcdefghijklmnopqrstuv"
)

func goodKeyFile() string {
	return fmt.Sprintf(`terminals:
  T0000001: %s
  "K 000001": %s
wallet_master_load_key: %s
storage_key: %s
admin_tokens:
  - %s
service_tokens:
  - %s
`, tmk1, tmk2, wallet, storage, admTok, token)
}

func writeKeyFile(t testing.TB, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
	require.NoError(t, os.Chmod(path, mode)) // umask must not decide the test
	return path
}

func TestLoadKeys(t *testing.T) {
	k, err := LoadKeys(writeKeyFile(t, goodKeyFile(), 0o600))
	require.NoError(t, err)
	tmk, ok := k.TMK("T0000001")
	require.True(t, ok)
	require.Equal(t, tmk1, hex.EncodeToString(tmk))
	tmk, ok = k.TMK("K 000001")
	require.True(t, ok)
	require.Equal(t, tmk2, hex.EncodeToString(tmk))
	require.Equal(t, wallet, hex.EncodeToString(k.WalletMasterLoadKey))
	require.Equal(t, storage, hex.EncodeToString(k.StorageKey))
	require.True(t, k.ValidToken(token))
	require.False(t, k.ValidToken(token[:len(token)-1]))
	require.False(t, k.ValidToken(""))
	require.True(t, k.ValidAdminToken(admTok))
	require.False(t, k.ValidAdminToken(admTok[:len(admTok)-1]))
	require.False(t, k.ValidAdminToken(""))
	require.False(t, k.ValidToken(admTok), "an admin token is not a service token")
	require.False(t, k.ValidAdminToken(token), "a service token is not an admin token")
}

// A key file without admin_tokens loads (older files have none); no token
// is then valid.
func TestLoadKeysWithoutAdminTokens(t *testing.T) {
	k, err := LoadKeys(writeKeyFile(t, strings.Replace(goodKeyFile(), "admin_tokens:\n  - "+admTok+"\n", "", 1), 0o600))
	require.NoError(t, err)
	require.Empty(t, k.AdminTokens)
	require.False(t, k.ValidAdminToken(""))
	require.False(t, k.ValidAdminToken(admTok))
}

func TestLoadKeysUpperCaseHexAndOwnerOnlyModes(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o400} {
		k, err := LoadKeys(writeKeyFile(t, strings.Replace(goodKeyFile(), tmk1, strings.ToUpper(tmk1), 1), mode))
		require.NoError(t, err)
		require.Equal(t, tmk1, hex.EncodeToString(k.Terminals["T0000001"]))
	}
}

func TestLoadKeysRefusesOpenModes(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602} {
		path := writeKeyFile(t, goodKeyFile(), mode)
		_, err := LoadKeys(path)
		require.ErrorIs(t, err, ErrKeyFileMode)
		require.EqualError(t, err, fmt.Sprintf("keys: %s has mode %04o; it must not be readable by group or others (chmod 600)", path, mode))
	}
}

func TestLoadKeysMissingFile(t *testing.T) {
	_, err := LoadKeys(filepath.Join(t.TempDir(), "nope.yaml"))
	require.ErrorIs(t, err, ErrKeyFile)
	require.ErrorContains(t, err, "no such file")
}

var hexRun = regexp.MustCompile(`[0-9a-fA-F]{8,}`)

// Every malformed entry is named, and no run of hex from the file (a key
// or part of one) appears in the error.
func TestLoadKeysMalformed(t *testing.T) {
	good := goodKeyFile()
	cases := []struct {
		name, content, want string
	}{
		{"short tmk", strings.Replace(good, tmk1, tmk1[:30], 1), "keys: terminals.T0000001: want 32 hex characters"},
		{"long tmk", strings.Replace(good, tmk1, tmk1+"00", 1), "keys: terminals.T0000001: want 32 hex characters"},
		{"not hex tmk", strings.Replace(good, tmk1, "zz"+tmk1[2:], 1), "keys: terminals.T0000001: want 32 hex characters"},
		{"zero tmk", strings.Replace(good, tmk1, strings.Repeat("0", 32), 1), "keys: terminals.T0000001: must not be all zeros"},
		{"list tmk", strings.Replace(good, tmk1, "["+tmk1+"]", 1), "keys: terminals.T0000001: want 32 hex characters"},
		{"bad terminal id", strings.Replace(good, "T0000001", "T00001", 1), "keys: terminals (line 2): terminal id must be exactly 8"},
		{"hex as terminal id", strings.Replace(good, "T0000001", tmk2, 1), "keys: terminals (line 2): terminal id must be exactly 8"},
		{"duplicate terminal", strings.Replace(good, `  "K 000001"`, "  T0000001", 1), "keys: terminals.T0000001: appears twice"},
		{"short wallet", strings.Replace(good, wallet, wallet[:31], 1), "keys: wallet_master_load_key: want 32 hex characters"},
		{"storage as 16 bytes", strings.Replace(good, storage, storage[:32], 1), "keys: storage_key: want 64 hex characters"},
		{"missing storage", strings.Replace(good, "storage_key: "+storage+"\n", "", 1), "keys: storage_key: is required"},
		{"missing wallet", strings.Replace(good, "wallet_master_load_key: "+wallet+"\n", "", 1), "keys: wallet_master_load_key: is required"},
		{"short token", strings.Replace(good, token, token[:20], 1), "keys: service_tokens[0]: want 32 to 512 characters"},
		{"token with space", strings.Replace(good, token, `"`+token+` x"`, 1), "keys: service_tokens[0]: may hold only"},
		{"duplicate token", good + "  - " + token + "\n", "keys: service_tokens[1]: repeats service_tokens[0]"},
		{"tokens not a list", strings.Replace(good, "service_tokens:\n  - "+token, "service_tokens: "+token, 1), "keys: service_tokens: want a list"},
		{"short admin token", strings.Replace(good, admTok, admTok[:20], 1), "keys: admin_tokens[0]: want 32 to 512 characters"},
		{"admin token with space", strings.Replace(good, admTok, `"`+admTok+` x"`, 1), "keys: admin_tokens[0]: may hold only"},
		{"duplicate admin token", strings.Replace(good, "  - "+admTok+"\n", "  - "+admTok+"\n  - "+admTok+"\n", 1), "keys: admin_tokens[1]: repeats admin_tokens[0]"},
		{"admin tokens not a list", strings.Replace(good, "admin_tokens:\n  - "+admTok, "admin_tokens: "+admTok, 1), "keys: admin_tokens: want a list"},
		{"admin token is a service token", strings.Replace(good, admTok, token, 1), "keys: admin_tokens[0]: repeats service_tokens[0]"},
		{"unknown key", good + "pin_key: " + tmk1 + "\n", "keys: pin_key: unknown key"},
		{"key as a key name", good + tmk1 + ": x\n", "keys: line 10: unknown key"},
		{"twice", good + "storage_key: " + storage + "\n", "keys: storage_key: appears twice"},
		{"not yaml", "terminals: {T0000001: " + tmk1 + "\n", "keys: not valid YAML"},
		{"not a mapping", "- " + tmk1 + "\n", "keys: want a mapping"},
		{"empty", "", "keys: want a mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKeys(writeKeyFile(t, tc.content, 0o600))
			require.ErrorIs(t, err, ErrKeyFile)
			require.Contains(t, err.Error(), tc.want)
			for _, run := range hexRun.FindAllString(tc.content, -1) {
				if ans(run, 8) && strings.Contains(tc.content, run+":") {
					continue // a terminal id, not key material
				}
				require.NotContains(t, strings.ToLower(err.Error()), strings.ToLower(run[:8]), "error leaks key material")
			}
			require.NotContains(t, err.Error(), token[:12])
			require.NotContains(t, err.Error(), admTok[:12])
		})
	}
}

func TestKeysRoundTrip(t *testing.T) {
	k, err := LoadKeys(writeKeyFile(t, goodKeyFile(), 0o600))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "keys.yaml")
	require.NoError(t, WriteKeys(path, k))
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	k2, err := LoadKeys(path)
	require.NoError(t, err)
	require.Equal(t, k, k2)
	require.Empty(t, DiffKeys(k, k2))
}

func TestKeysNeverPrintSecrets(t *testing.T) {
	k, err := LoadKeys(writeKeyFile(t, goodKeyFile(), 0o600))
	require.NoError(t, err)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("keys", "k", k, "kv", *k, "tmk", k.Terminals["T0000001"], "storage", k.StorageKey)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("keys", "k", k, "tokens", k.ServiceTokens, "admin", k.AdminTokens)
	out := logs.String()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q"} {
		out += fmt.Sprintf(verb, k) + fmt.Sprintf(verb, *k) + fmt.Sprintf(verb, k.StorageKey) +
			fmt.Sprintf(verb, k.Terminals) + fmt.Sprintf(verb, k.ServiceTokens) + fmt.Sprintf(verb, k.AdminTokens)
	}
	js, err := json.Marshal(k)
	require.NoError(t, err)
	ys, err := yaml.Marshal(k)
	require.NoError(t, err)
	out += string(js) + string(ys)
	lower := strings.ToLower(out)
	for _, secret := range []string{tmk1, tmk2, wallet, storage, token, admTok} {
		require.NotContains(t, lower, secret[:8])
	}
	require.Contains(t, out, "terminals: 2")
	require.Contains(t, out, "admin_tokens: 1")
	require.Contains(t, out, redacted)
}

func TestCheckKeys(t *testing.T) {
	k, err := LoadKeys(writeKeyFile(t, goodKeyFile(), 0o600))
	require.NoError(t, err)
	c, err := Load(filepath.Join(testdata, "example.yaml"))
	require.NoError(t, err)
	err = c.CheckKeys(k)
	require.ErrorIs(t, err, ErrMissingKey)
	require.EqualError(t, err, "config: terminals: no TMK in ./var/keys.yaml for T0000002, S0000001, K0000001")

	for _, id := range []string{"T0000002", "S0000001", "K0000001"} {
		k.Terminals[id] = Secret(bytes.Repeat([]byte{1}, TMKSize))
	}
	require.NoError(t, c.CheckKeys(k))
}

func TestDiffKeys(t *testing.T) {
	k, err := LoadKeys(writeKeyFile(t, goodKeyFile(), 0o600))
	require.NoError(t, err)
	n := &Keys{Terminals: map[string]Secret{
		"T0000001": Secret(bytes.Clone(k.Terminals["T0000001"])),
		"N0000001": Secret(bytes.Clone(k.Terminals["T0000001"])),
	}}
	require.Equal(t, []string{"K 000001", "N0000001"}, DiffKeys(k, n))
	n.Terminals["T0000001"][0] ^= 1
	require.Equal(t, []string{"K 000001", "N0000001", "T0000001"}, DiffKeys(k, n))
}

// TestWalletKeysByVersion: wallet_master_load_keys maps the key version a
// card reports (DF08) to its master load key; with it the single
// wallet_master_load_key becomes optional; both round-trip.
func TestWalletKeysByVersion(t *testing.T) {
	file := fmt.Sprintf("terminals: {T0000001: %s}\nwallet_master_load_keys:\n  1: %s\n  2: %s\nstorage_key: %s\n", tmk1, wallet, tmk2, storage)
	k, err := LoadKeys(writeKeyFile(t, file, 0o600))
	require.NoError(t, err)
	require.Empty(t, k.WalletMasterLoadKey)
	require.Equal(t, wallet, hex.EncodeToString(k.WalletMasterLoadKeys[1]))
	require.Equal(t, tmk2, hex.EncodeToString(k.WalletMasterLoadKeys[2]))
	again, err := parseKeys(k.Marshal())
	require.NoError(t, err)
	require.Equal(t, k.WalletMasterLoadKeys, again.WalletMasterLoadKeys)
	require.NotContains(t, fmt.Sprintf("%v %+v %#v", k, k, k), wallet)

	for name, bad := range map[string]string{
		"version 0":    "wallet_master_load_keys: {0: " + wallet + "}\n",
		"version 256":  "wallet_master_load_keys: {256: " + wallet + "}\n",
		"short key":    "wallet_master_load_keys: {1: abcd}\n",
		"not mapping":  "wallet_master_load_keys: [" + wallet + "]\n",
		"neither form": "",
	} {
		_, err := LoadKeys(writeKeyFile(t, "storage_key: "+storage+"\n"+bad, 0o600))
		require.ErrorIs(t, err, ErrKeyFile, name)
		require.Contains(t, err.Error(), "wallet_master_load_key", name)
		require.NotContains(t, err.Error(), wallet, name)
	}
}

func TestWalletKeyForVersion(t *testing.T) {
	k := &Keys{WalletMasterLoadKey: Secret{1}, WalletMasterLoadKeys: map[byte]Secret{2: {2}}}
	got, ok := k.WalletKey(2)
	require.True(t, ok)
	require.Equal(t, Secret{2}, got, "a listed version has its own key")
	got, ok = k.WalletKey(1)
	require.True(t, ok)
	require.Equal(t, Secret{1}, got, "the others the default")
	k.WalletMasterLoadKey = nil
	_, ok = k.WalletKey(1)
	require.False(t, ok, "no default, version not listed")
}
