package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/posclient"
)

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// appendConfig adds YAML to the configuration file at path.
func appendConfig(t *testing.T, path, yaml string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(b, yaml...), 0o600))
}

// TestSIGHUPReloadsStandInLimit runs the real binary in connected mode
// with the centre unreachable, so that it stands in: after the stand-in
// limit is lowered in the file and the process gets SIGHUP, the next
// purchase over the new limit is declined 61, without a reconnect.
func TestSIGHUPReloadsStandInLimit(t *testing.T) {
	bin := buildGateway(t)
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, mode: "connected",
		extra: "centre: {url: http://" + closedPort(t) + ", timeout: 200ms}\n"})
	importAccounts(t, filepath.Join(dir, "gw.db"), 4, 100000)
	p := startProc(t, bin, path)
	defer p.term(t)

	c, err := posclient.Dial(p.addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	term := &posclient.Terminal{ID: termOf(1), Merchant: "M00000000000001", TMK: tmk, T: c}
	ctx := context.Background()
	_, err = term.SignIn(ctx, 1)
	require.NoError(t, err)
	resp, _, err := term.Send(ctx, term.CardPurchase(cardOf(1), 3000, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "stand-in under the default 50.00 per purchase")

	appendConfig(t, path, "standin: {per_txn_fen: 2000}\n")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(p.logs.String(), "reloaded configuration") },
		10*time.Second, 20*time.Millisecond, "the reload is logged")
	require.Contains(t, p.logs.String(), "standin.per_txn_fen")

	resp, _, err = term.Send(ctx, term.CardPurchase(cardOf(1), 3000, nil), true)
	require.NoError(t, err)
	require.Equal(t, "61", posclient.RC(resp), "the same purchase is now over the stand-in limit")
	resp, _, err = term.Send(ctx, term.CardPurchase(cardOf(1), 2000, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "at the new limit")
}

// TestReloadRefusesRestartSettings: a reload whose file changes a setting
// that needs a restart applies nothing and says which settings; the rest
// of the file (here a limit) waits for the restart too.
func TestReloadRefusesRestartSettings(t *testing.T) {
	g, logs := startLogged(t, gwOptions{terminals: 1}, nil)
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)

	b, err := os.ReadFile(g.cfg)
	require.NoError(t, err)
	changed := strings.Replace(string(b), "max_conns: 20000", "max_conns: 100", 1) + "limits: {daily_fen: 100}\n"
	require.NoError(t, os.WriteFile(g.cfg, []byte(changed), 0o600))
	err = g.d.Reload()
	var re *daemon.RestartError
	require.ErrorAs(t, err, &re)
	require.Equal(t, []string{"server.max_conns"}, re.Keys)
	require.Equal(t, "reload refused, nothing applied: server.max_conns changed, which takes effect only on restart "+
		"(systemctl restart ecardgw; or put the old value back and reload)", err.Error())
	require.NotContains(t, logs.String(), "reloaded configuration")

	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 500, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "limits.daily_fen was not applied")
}

// TestReloadRotatesIssuerKeys: a campus-code issuer key added to the file
// is trusted after a reload, and one marked revoked is refused, without a
// restart or a reconnect (docs/operations.md, Rotating keys).
func TestReloadRotatesIssuerKeys(t *testing.T) {
	oldKey, err := issuer.GenerateKey(campuscode.Ed25519, 1, rand.Reader)
	require.NoError(t, err)
	newKey, err := issuer.GenerateKey(campuscode.Ed25519, 2, rand.Reader)
	require.NoError(t, err)
	issuers := func(revokeOld bool) string {
		return fmt.Sprintf("    - {key_id: 1, algorithm: ed25519, public_key: %s, revoked: %t}\n",
			hex.EncodeToString(oldKey.PublicKey()), revokeOld)
	}
	g, logs := startLogged(t, gwOptions{terminals: 1, extra: "campuscode:\n  issuers:\n" + issuers(false)}, nil)
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err)
	syncCard(t, p, cardOf(1))
	syncCard(t, p, cardOf(2))
	now := time.Now()
	// Key 1's user is account 1, key 2's account 2: one user's codes
	// from two devices would share a counter and replay each other.
	devs := map[*issuer.Key]*issuer.Device{}
	for _, k := range []*issuer.Key{oldKey, newKey} {
		devs[k], err = issuer.NewDevice(k, k.KeyID, uint64(k.KeyID), now.Add(-time.Hour), now.Add(time.Hour), rand.Reader)
		require.NoError(t, err)
	}
	code := func(k *issuer.Key) string {
		c, err := devs[k].Code(time.Now())
		require.NoError(t, err)
		return c
	}
	pay := func(c string) string {
		resp, _, err := p.Send(ctx, p.CodePurchase(c, 100), true)
		require.NoError(t, err)
		return posclient.RC(resp)
	}
	require.Equal(t, "Q5", pay(code(newKey)), "key 2 is not trusted yet")

	newIssuer := fmt.Sprintf("    - {key_id: 2, algorithm: ed25519, public_key: %s}\n", hex.EncodeToString(newKey.PublicKey()))
	b, err := os.ReadFile(g.cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(g.cfg, []byte(strings.Replace(string(b), issuers(false), issuers(false)+newIssuer, 1)), 0o600))
	require.NoError(t, g.d.Reload())
	require.Contains(t, logs.String(), "campuscode.issuers.2.public_key")
	require.Equal(t, "00", pay(code(newKey)), "key 2 trusted after the reload")
	require.Equal(t, "00", pay(code(oldKey)), "key 1 still trusted while cards move over")

	b, err = os.ReadFile(g.cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(g.cfg, []byte(strings.Replace(string(b), issuers(false), issuers(true), 1)), 0o600))
	require.NoError(t, g.d.Reload())
	require.Equal(t, "Q5", pay(code(oldKey)), "key 1 revoked")
	require.Equal(t, "00", pay(code(newKey)))
}

// TestReloadWalletKeysByVersion: wallet_master_load_keys in the key file
// reach the engine on reload: a version-1 card whose key was replaced as
// the default loads again once version 1 is listed with its key.
func TestReloadWalletKeysByVersion(t *testing.T) {
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, extra: "" +
		"  - {id: S0000001, merchant: M00000000000002, type: settlement, location: Xiaoying bath house}\n"})
	keys := filepath.Join(dir, "keys.yaml")
	k, err := readFile(keys)
	require.NoError(t, err)
	const demo = "0123456789ABCDEFFEDCBA9876543210"
	k = strings.Replace(k, "terminals:\n", "terminals:\n  S0000001: 112233445566778899AABBCCDDEEF001\n", 1)
	rotated := strings.Replace(k, "wallet_master_load_key: "+demo, "wallet_master_load_key: 00112233445566778899AABBCCDDEEFF", 1)
	require.NotEqual(t, k, rotated)
	require.NoError(t, writeFile(keys, rotated))
	importAccounts(t, filepath.Join(dir, "gw.db"), 2, 10000)
	g := &gateway{t: t, dir: dir, cfg: path}
	g.start()
	ctx := context.Background()
	s, _ := g.dial(1)
	s.ID, s.Merchant = "S0000001", "M00000000000002"
	_, err = s.SignIn(ctx, 1)
	require.NoError(t, err)
	load := func() string {
		m := cardReq(s, 200, 190000, cardOf(1), 500)
		_ = m.SetBytes(55, walletInit(t, cardOf(1), 0, 0, 500, false))
		resp, _, err := s.Send(ctx, m, true)
		require.NoError(t, err)
		return posclient.RC(resp)
	}
	require.Equal(t, "A0", load(), "the default key is not the card's")

	require.NoError(t, writeFile(keys, rotated+"wallet_master_load_keys: {1: "+demo+"}\n"))
	require.NoError(t, g.d.Reload())
	require.Equal(t, "00", load(), "version 1 has its own key now")
}

// TestReloadNewTMKEndsSession: a terminal whose TMK changes in the key file
// loses its session on reload (its working keys went out under the old
// TMK): its next purchase is answered 77, and it signs in with the new
// TMK; the other terminal is not disturbed.
func TestReloadNewTMKEndsSession(t *testing.T) {
	g, logs := startLogged(t, gwOptions{terminals: 2}, nil)
	ctx := context.Background()
	a, _ := g.dial(1)
	b, _ := g.dial(2)
	for _, p := range []*posclient.Terminal{a, b} {
		_, err := p.SignIn(ctx, 1)
		require.NoError(t, err)
	}
	keys := filepath.Join(g.dir, "keys.yaml")
	k, err := readFile(keys)
	require.NoError(t, err)
	newTMK := "0F1E2D3C4B5A69788796A5B4C3D2E1F0"
	k = strings.Replace(k, termOf(1)+": "+strings.ToUpper(hex.EncodeToString(tmk)), termOf(1)+": "+newTMK, 1)
	require.NoError(t, writeFile(keys, k))
	require.NoError(t, g.d.Reload())
	require.Contains(t, logs.String(), "TMK changed: sessions ended")

	resp, _, err := a.Send(ctx, a.CardPurchase(cardOf(1), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "77", posclient.RC(resp))
	resp, _, err = b.Send(ctx, b.CardPurchase(cardOf(2), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))

	a.TMK, _ = hex.DecodeString(newTMK)
	a.MAK = nil
	_, err = a.SignIn(ctx, 2)
	require.NoError(t, err)
	resp, _, err = a.Send(ctx, a.CardPurchase(cardOf(1), 100, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "signed in under the new TMK")
}

// TestReloadLogLevel: log.level changes on reload through the logger's
// level variable.
func TestReloadLogLevel(t *testing.T) {
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelWarn)
	g, _ := startLogged(t, gwOptions{terminals: 1}, func(o *daemon.Options) { o.LogLevel = lv })
	b, err := os.ReadFile(g.cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(g.cfg, []byte(strings.Replace(string(b), "log: {level: warn}", "log: {level: debug}", 1)), 0o600))
	require.NoError(t, g.d.Reload())
	require.Equal(t, slog.LevelDebug, lv.Level())
}
