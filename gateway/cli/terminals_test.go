package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/mac"
	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/posclient"
)

// startLoggedDaemon runs a reloadable gateway on cfgPath whose log (info
// and up, text) goes into the returned buffer.
func startLoggedDaemon(t *testing.T, cfgPath string) (*daemon.Daemon, *syncBuffer) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	var log syncBuffer
	d, err := daemon.New(cfg, keys, daemon.Options{Version: "v0.0.0-test", ConfigPath: cfgPath, ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	require.NoError(t, err)
	require.NoError(t, d.Start())
	t.Cleanup(func() { _ = d.Stop() })
	return d, &log
}

// dialTerminal connects a POS terminal to the gateway; it returns the
// terminal and the address it connects from.
func dialTerminal(t *testing.T, d *daemon.Daemon, id string, tmk []byte) (*posclient.Terminal, string) {
	t.Helper()
	c, err := posclient.Dial(d.POSAddr().String(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &posclient.Terminal{ID: id, Merchant: "M00000000000001", TMK: tmk, T: c}, c.Conn().LocalAddr().String()
}

// TestTerminalsShowA77: a terminal that is not signed in gets 77; the
// decline is in `ecardgw terminals show` and `list` and in the log, each
// with the terminal's address and the reason, and the sign-in that
// follows is logged with the address too.
func TestTerminalsShowA77(t *testing.T) {
	cfgPath, _ := writeOpsConfigAdmin(t, freeAddr(t))
	d, log := startLoggedDaemon(t, cfgPath)
	p, from := dialTerminal(t, d, "T0000001", bytes.Repeat([]byte{0x11}, 16))
	ctx := context.Background()
	resp, _, err := p.Send(ctx, p.CardPurchase("100000000001", 100, nil), false)
	require.NoError(t, err)
	require.Equal(t, "77", posclient.RC(resp))

	code, out, errOut := runCLI(t, "--config", cfgPath, "terminals", "show", "T0000001")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^state +signed-out$`, out)
	require.Regexp(t, `(?m)^remote +`+regexp.QuoteMeta(from)+`$`, out)
	require.Regexp(t, `(?m)^  \S+ +0200 +77 +`+regexp.QuoteMeta(from)+` +not signed in$`, out)
	requireClean(t, out)

	require.Contains(t, log.String(), fmt.Sprintf(`msg="request declined" terminal=T0000001 merchant=M00000000000001 remote=%s mti=0200 rc=77 reason="not signed in"`, from))

	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err)
	require.Regexp(t, `msg="terminal signed in" terminal=T0000001 batch=1 remote=`+regexp.QuoteMeta(from), log.String())
	code, out, errOut = runCLI(t, "--config", cfgPath, "terminals", "list")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^T0000001 +M00000000000001 +pos +signed-in +1 +\S+ +`+regexp.QuoteMeta(from)+` +2\.0 +00$`, out)
	requireClean(t, out)
}

// Declines are logged at most declineLogBurst times a minute per
// terminal; the rest are counted.
func TestDeclineLogIsRateLimited(t *testing.T) {
	cfgPath, _ := writeOpsConfigAdmin(t, freeAddr(t))
	d, log := startLoggedDaemon(t, cfgPath)
	p, _ := dialTerminal(t, d, "T0000001", bytes.Repeat([]byte{0x11}, 16))
	for range 50 {
		resp, _, err := p.Send(context.Background(), p.CardPurchase("100000000001", 100, nil), false)
		require.NoError(t, err)
		require.Equal(t, "77", posclient.RC(resp))
	}
	n := bytes.Count([]byte(log.String()), []byte(`msg="request declined"`))
	require.GreaterOrEqual(t, n, 5)
	require.LessOrEqual(t, n, 10, "at most 5 a minute (the test may straddle a minute)")
	code, out, _ := runCLI(t, "--config", cfgPath, "terminals", "show", "T0000001")
	require.Equal(t, 0, code)
	require.Contains(t, out, "50 since start")
	require.Contains(t, out, "50 declined")
}

// TestTerminalLifecycle: add prints the new key's check value, and the
// running gateway takes the terminal on reload; disable refuses it with
// 03 after the next reload, enable lets it in again.
func TestTerminalLifecycle(t *testing.T) {
	cfgPath, _ := writeOpsConfigAdmin(t, freeAddr(t))
	d, log := startLoggedDaemon(t, cfgPath)
	ctx := context.Background()

	code, out, errOut := runCLI(t, "--config", cfgPath, "terminals", "add", "T0000002", "--merchant", "M00000000000001",
		"--type", "pos", "--location", "canteen 2")
	require.Equal(t, 0, code, errOut)
	m := regexp.MustCompile(`^added terminal T0000002; master key check value ([0-9A-F]{8})\n$`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	tmk, ok := keys.TMK("T0000002")
	require.True(t, ok)
	kcv := mac.CheckValue(tmk)
	require.Equal(t, m[1], fmt.Sprintf("%X", kcv[:]))
	require.NotContains(t, out+errOut, hex.EncodeToString(tmk))

	p, _ := dialTerminal(t, d, "T0000002", tmk)
	resp, err := p.SignIn(ctx, 1)
	require.Error(t, err, "not before the reload")
	_ = resp
	require.NoError(t, d.Reload())
	p, _ = dialTerminal(t, d, "T0000002", tmk)
	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err, "after the reload")

	code, out, errOut = runCLI(t, "--config", cfgPath, "terminals", "disable", "T0000002")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "terminal T0000002 disabled\n", out)
	require.NoError(t, d.Reload())
	resp, err = p.Echo(ctx)
	require.NoError(t, err)
	require.Equal(t, "03", posclient.RC(resp))
	require.Contains(t, log.String(), `rc=03 reason="terminal disabled (ecardgw terminals enable)"`)
	code, out, _ = runCLI(t, "--config", cfgPath, "terminals", "show", "T0000002")
	require.Equal(t, 0, code)
	require.Regexp(t, `(?m)^state +disabled$`, out)

	code, out, errOut = runCLI(t, "--config", cfgPath, "terminals", "enable", "T0000002")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "terminal T0000002 enabled\n", out)
	require.NoError(t, d.Reload())
	_, err = p.SignIn(ctx, 2)
	require.NoError(t, err)

	code, _, errOut = runCLI(t, "--config", cfgPath, "terminals", "add", "T0000002", "--merchant", "M00000000000001", "--type", "pos")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already exists")
	code, _, errOut = runCLI(t, "--config", cfgPath, "terminals", "disable", "T0000009")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no such terminal")
}

// Without a running gateway, list and show print the configuration.
func TestTerminalsOffline(t *testing.T) {
	cfgPath, _ := writeOpsConfigAdmin(t, freeAddr(t))
	code, out, errOut := runCLI(t, "--config", cfgPath, "terminals", "list")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "showing the configuration only")
	require.Regexp(t, `(?m)^T0000001 +M00000000000001 +pos +- +0 +- +- +0\.0 +-$`, out)
	code, _, errOut = runCLI(t, "--config", cfgPath, "terminals", "show", "T0000009")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no such terminal")
}

// The terminal view (where terminals connect from) and the dead letters
// need the admin token, like the journal.
func TestTerminalsAndDeadLettersNeedTheAdminToken(t *testing.T) {
	cfgPath, _ := writeOpsConfigAdmin(t, freeAddr(t))
	d, _ := startLoggedDaemon(t, cfgPath)
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/terminals"}, {http.MethodGet, "/terminals/T0000001"},
		{http.MethodGet, "/deadletters"}, {http.MethodPost, "/deadletters/requeue?all=1"},
	} {
		r, err := http.NewRequest(req.method, "http://"+d.Admin.Addr()+req.path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s", req.method, req.path)
		r.Header.Set("Authorization", "Bearer "+opsAdminToken)
		resp, err = http.DefaultClient.Do(r)
		require.NoError(t, err)
		_ = resp.Body.Close()
		want := http.StatusOK
		if req.method == http.MethodPost {
			want = http.StatusConflict // no sink: nothing would deliver them
		}
		require.Equal(t, want, resp.StatusCode, "%s %s", req.method, req.path)
	}
}
