package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFlattenAndDiff: every setting is listed by its file key, terminals
// by id; keys are fingerprints, never their hex; a diff says which changes
// a reload applies and which need a restart.
func TestFlattenAndDiff(t *testing.T) {
	c, err := Load(filepath.Join(testdata, "example.yaml"))
	require.NoError(t, err)
	k, err := LoadKeys(writeKeyFile(t, goodKeyFile(), 0o600))
	require.NoError(t, err)
	f := Flatten(c, k)
	require.Equal(t, "127.0.0.1:8583", f["listen.pos"])
	require.Equal(t, "1m0s", f["campuscode.validity"])
	require.Equal(t, "M00000000000002", f["terminals.S0000001.merchant"])
	require.Equal(t, "5000", f["standin.per_txn_fen"])
	require.Equal(t, Fingerprint(k.StorageKey), f["keys.storage_key"])
	for _, v := range f {
		for _, secret := range []string{tmk1, tmk2, wallet, storage, token, admTok} {
			require.NotContains(t, strings.ToLower(v), secret)
		}
	}

	c2, err := Load(filepath.Join(testdata, "example.yaml"))
	require.NoError(t, err)
	c2.StandIn.PerTxnFen = 2000
	c2.Server.MaxConns = 5
	c2.Terminals = c2.Terminals[1:]
	k2, err := LoadKeys(writeKeyFile(t, strings.Replace(goodKeyFile(), tmk1, tmk2, 1), 0o600))
	require.NoError(t, err)
	changes := Diff(f, Flatten(c2, k2))
	byKey := map[string]Change{}
	for _, ch := range changes {
		byKey[ch.Key] = ch
	}
	require.Equal(t, Change{Key: "standin.per_txn_fen", Old: "5000", New: "2000"}, byKey["standin.per_txn_fen"])
	require.Equal(t, Change{Key: "server.max_conns", Old: "10000", New: "5", Restart: true}, byKey["server.max_conns"])
	require.Contains(t, byKey, "keys.terminals.T0000001")
	require.False(t, byKey["keys.terminals.T0000001"].Restart)
	removed := c.Terminals[0].ID
	require.Equal(t, c.Terminals[0].Merchant, byKey["terminals."+removed+".merchant"].Old)
	require.Equal(t, []string{"server.max_conns"}, RestartKeys(changes))
}

func TestRedactURLPassword(t *testing.T) {
	require.Equal(t, "https://gw:%5Bredacted%5D@centre.example/api", redactURL("https://gw:hunter2@centre.example/api"))
	require.Equal(t, "https://centre.example/api", redactURL("https://centre.example/api"))
}

func TestReloadable(t *testing.T) {
	for _, k := range []string{"limits.daily_fen", "standin.per_account_fen", "campuscode.issuers.7.public_key",
		"terminals.T0000001.merchant", "log.level", "keys.wallet_master_load_keys.2", "keys.admin_tokens[0]"} {
		require.True(t, Reloadable(k), k)
	}
	for _, k := range []string{"server.max_conns", "store.path", "listen.pos", "mode", "keys.storage_key",
		"keys.upstream.centre_token", "log.format", "session.key_lifetime", "centre.url"} {
		require.False(t, Reloadable(k), k)
	}
}

// TestDiffCardIOTerminalsNeedRestart: with the gateway's own readers on,
// their terminals, TMKs and the wallet limit they load to were taken at
// start: changing them needs a restart; other terminals still reload.
func TestDiffCardIOTerminalsNeedRestart(t *testing.T) {
	old := Flat{"cardio.enabled": "true", "cardio.readers.Virtual PCD 00 00.terminal": "D0000001",
		"keys.terminals.D0000001": "sha256:00000001", "keys.terminals.T0000001": "sha256:00000002",
		"terminals.D0000001.merchant": "M00000000000001", "limits.wallet_limit_fen": "1000"}
	new := Flat{"cardio.enabled": "true", "cardio.readers.Virtual PCD 00 00.terminal": "D0000001",
		"keys.terminals.D0000001": "sha256:0000000a", "keys.terminals.T0000001": "sha256:0000000b",
		"terminals.D0000001.merchant": "M00000000000009", "limits.wallet_limit_fen": "900"}
	require.Equal(t, []string{"keys.terminals.D0000001", "limits.wallet_limit_fen", "terminals.D0000001.merchant"},
		RestartKeys(Diff(old, new)))
	old["cardio.enabled"], new["cardio.enabled"] = "false", "false"
	require.Empty(t, RestartKeys(Diff(old, new)), "without readers all of it reloads")
}
