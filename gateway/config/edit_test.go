package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/mac"
)

// writeEditFiles writes a small configuration with a comment and its key
// file, and returns the configuration's path and the key file's.
func writeEditFiles(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.yaml")
	require.NoError(t, os.WriteFile(keys, []byte("# the gateway's secrets\nterminals:\n  T0000001: "+strings.Repeat("11", 16)+
		"\nwallet_master_load_key: 0123456789ABCDEFFEDCBA9876543210\nstorage_key: "+strings.Repeat("ab", 32)+"\n"), 0o600))
	cfg := filepath.Join(dir, "ecardgw.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("mode: standalone\nstore: {path: "+filepath.Join(dir, "gw.db")+"}\nkeys: {file: "+keys+"}\n"+
		"terminals:\n  # the canteen's first till\n  - {id: T0000001, merchant: M00000000000001, type: pos}\n"), 0o640))
	return cfg, keys
}

func TestAddTerminal(t *testing.T) {
	cfgPath, keysPath := writeEditFiles(t)
	kcv, err := AddTerminal(cfgPath, Terminal{ID: "T0000002", Merchant: "M00000000000001", Type: TerminalPOS, Location: "canteen 2"}, nil)
	require.NoError(t, err)

	c, err := Load(cfgPath)
	require.NoError(t, err)
	got, ok := c.Terminal("T0000002")
	require.True(t, ok)
	require.Equal(t, Terminal{ID: "T0000002", Merchant: "M00000000000001", Type: TerminalPOS, Location: "canteen 2"}, got)
	keys, err := LoadKeys(keysPath)
	require.NoError(t, err)
	tmk, ok := keys.TMK("T0000002")
	require.True(t, ok)
	require.Equal(t, mac.CheckValue(tmk), kcv, "the check value printed is the new key's")
	old, _ := keys.TMK("T0000001")
	require.NotEqual(t, []byte(old), []byte(tmk))
	require.NoError(t, c.CheckKeys(keys))

	cfgText, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	require.Contains(t, string(cfgText), "# the canteen's first till", "comments are kept")
	keyText, err := os.ReadFile(keysPath)
	require.NoError(t, err)
	require.Contains(t, string(keyText), "# the gateway's secrets")
	for path, mode := range map[string]os.FileMode{cfgPath: 0o640, keysPath: 0o600} {
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, mode, st.Mode().Perm(), "%s keeps its mode", path)
	}

	_, err = AddTerminal(cfgPath, Terminal{ID: "T0000002", Merchant: "M00000000000001", Type: TerminalPOS}, nil)
	require.ErrorIs(t, err, ErrTerminalExists)
}

// A terminal that would not load changes neither file.
func TestAddTerminalRefusedLeavesFilesAlone(t *testing.T) {
	cfgPath, keysPath := writeEditFiles(t)
	cfgBefore, _ := os.ReadFile(cfgPath)
	keysBefore, _ := os.ReadFile(keysPath)
	_, err := AddTerminal(cfgPath, Terminal{ID: "T0000002", Merchant: "short", Type: TerminalPOS}, nil)
	require.Error(t, err)
	cfgAfter, _ := os.ReadFile(cfgPath)
	keysAfter, _ := os.ReadFile(keysPath)
	require.Equal(t, string(cfgBefore), string(cfgAfter))
	require.Equal(t, string(keysBefore), string(keysAfter))

	_, err = AddTerminal(cfgPath, Terminal{ID: "T0000003", Merchant: "M00000000000001", Type: TerminalPOS},
		bytes.NewReader(nil))
	require.Error(t, err, "no randomness, no key")
}

func TestSetTerminalDisabled(t *testing.T) {
	cfgPath, _ := writeEditFiles(t)
	changed, err := SetTerminalDisabled(cfgPath, "T0000001", true)
	require.NoError(t, err)
	require.True(t, changed)
	c, err := Load(cfgPath)
	require.NoError(t, err)
	require.True(t, c.Terminals[0].Disabled)

	changed, err = SetTerminalDisabled(cfgPath, "T0000001", true)
	require.NoError(t, err)
	require.False(t, changed, "already disabled")

	changed, err = SetTerminalDisabled(cfgPath, "T0000001", false)
	require.NoError(t, err)
	require.True(t, changed)
	c, err = Load(cfgPath)
	require.NoError(t, err)
	require.False(t, c.Terminals[0].Disabled)
	text, _ := os.ReadFile(cfgPath)
	require.NotContains(t, string(text), "disabled")

	_, err = SetTerminalDisabled(cfgPath, "T0000009", true)
	require.True(t, errors.Is(err, ErrNoTerminal))
}
