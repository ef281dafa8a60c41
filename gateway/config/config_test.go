package config

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const testdata = "../../testdata/config"

func TestLoadExample(t *testing.T) {
	c, err := Load(filepath.Join(testdata, "example.yaml"))
	require.NoError(t, err)
	require.Equal(t, ModeStandalone, c.Mode)
	require.Equal(t, Listen{POS: "127.0.0.1:8583", Admin: "127.0.0.1:9100", Service: "127.0.0.1:9200"}, c.Listen)
	require.Equal(t, Store{Path: "./var/ecardgw.db", CheckWait: 250 * time.Millisecond}, c.Store)
	require.Equal(t, "./var/keys.yaml", c.Keys.File)
	require.Len(t, c.Terminals, 4)
	s, ok := c.Terminal("S0000001")
	require.True(t, ok)
	require.Equal(t, Terminal{ID: "S0000001", Merchant: "M00000000000002", Type: TerminalSettlement, Location: "Xiaoying bath house"}, s)
	_, ok = c.Terminal("X0000001")
	require.False(t, ok)

	cc := c.CampusCode
	require.Equal(t, 60*time.Second, cc.Validity)
	require.Equal(t, 30*time.Second, cc.Skew)
	require.Equal(t, []Algorithm{AlgEd25519, AlgSM2}, cc.Algorithms)
	require.True(t, cc.Enabled(AlgSM2))
	require.Len(t, cc.Issuers, 2)
	require.Len(t, cc.Issuers[0].PublicKey, 32)
	require.Equal(t, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), cc.Issuers[0].NotBefore)
	require.True(t, cc.Issuers[0].NotAfter.IsZero())
	require.Len(t, cc.Issuers[1].PublicKey, 33)
	// +08:00 in the file, UTC inside.
	require.Equal(t, time.Date(2029, 12, 31, 16, 0, 0, 0, time.UTC), cc.Issuers[1].NotAfter)
	require.Equal(t, time.UTC, cc.Issuers[1].NotAfter.Location())

	require.Equal(t, Server{MaxFrame: 2048, IdleTimeout: 5 * time.Minute, MaxConns: 10000, Workers: 256, MaxInFlight: 32, Multicore: true, GOGC: 1600, MemoryLimitMB: 1024,
		FrameTimeout: 5 * time.Second, MaxConnsPerAddr: 32, BufferBudgetMB: 0,
		TrustedAddrs:    []string{"127.0.0.0/8", "::1/128"},
		TrustedPrefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	}, c.Server)
	require.Equal(t, Limits{DailyFen: 0, TopupMaxFen: 99900, WalletLimitFen: 1000, AdviceMaxFen: 20000}, c.Limits)
	require.Equal(t, 1500*time.Millisecond, c.Centre.Timeout)
	require.Equal(t, StandIn{PerTxnFen: 5000, PerAccountFen: 20000}, c.StandIn)
	require.Equal(t, Payments{PollLimit: 30 * time.Second, PollInterval: time.Second, MaxPending: 1024, MaxPendingPerTerminal: 2}, c.Payments)
	require.Equal(t, 3, c.Centre.BreakerFailures)
	require.Equal(t, 5*time.Second, c.Centre.BreakerOpen)
	require.Equal(t, Log{Level: "info", Format: "text"}, c.Log)
	require.Equal(t, []Reader{{Match: "Virtual PCD 00 00", Terminal: "D0000001", Role: RoleDesk}}, c.CardIO.Readers)
	require.Equal(t, NATS{Stream: "ECARDGW", Subject: "ecardgw.records"}, c.Forward.NATS)
	require.Equal(t, Session{KeyLifetime: 24 * time.Hour}, c.Session)
	require.Equal(t, 5*time.Minute, c.Admin.TransferTimeout)
	require.Empty(t, c.Admin.AllowedHosts)
	require.Empty(t, c.Warnings)
}

// TestTerminalSessionOptions: a terminal's MAK length and legacy sign-out
// are per terminal, off unless set.
func TestTerminalSessionOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`terminals:
  - {id: T0000001, merchant: M00000000000001, type: pos}
  - {id: T0000002, merchant: M00000000000001, type: pos, mak: 3des}
  - {id: T0000003, merchant: M00000000000001, type: pos, mak: des, legacy_signout: true}
session: {key_lifetime: 8h}
`), 0o600))
	c, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, []Terminal{
		{ID: "T0000001", Merchant: "M00000000000001", Type: TerminalPOS},
		{ID: "T0000002", Merchant: "M00000000000001", Type: TerminalPOS, MAK: MAK3DES},
		{ID: "T0000003", Merchant: "M00000000000001", Type: TerminalPOS, MAK: MAKDES, LegacySignOut: true},
	}, c.Terminals)
	require.False(t, c.Terminals[0].DoubleMAK())
	require.True(t, c.Terminals[1].DoubleMAK())
	require.False(t, c.Terminals[2].DoubleMAK())
	require.Equal(t, 8*time.Hour, c.Session.KeyLifetime)
	require.Contains(t, strings.Join(c.Warnings, "\n"), "terminals[2].legacy_signout")
}

// The example file spells out the defaults, so loading nothing must give the
// same values apart from terminals and issuers, which have no default.
func TestDefaultsMatchExample(t *testing.T) {
	ex, err := Load(filepath.Join(testdata, "example.yaml"))
	require.NoError(t, err)
	d, err := Load("")
	require.NoError(t, err)
	require.Empty(t, d.Terminals)
	require.Empty(t, d.CampusCode.Issuers)
	require.Contains(t, strings.Join(d.Warnings, "\n"), "no terminals")
	require.Contains(t, strings.Join(d.Warnings, "\n"), "campuscode.issuers is empty")
	d.Terminals, d.CampusCode.Issuers, d.Warnings, d.terminalIndex = ex.Terminals, ex.CampusCode.Issuers, ex.Warnings, ex.terminalIndex
	require.Equal(t, ex, d)
}

func TestEnvOverrides(t *testing.T) {
	cases := []struct {
		env, val string
		got      func(*Config) any
		want     any
	}{
		{"MODE", "connected", func(c *Config) any { return c.Mode }, ModeConnected},
		{"LISTEN_POS", "127.0.0.1:18583", func(c *Config) any { return c.Listen.POS }, "127.0.0.1:18583"},
		{"LISTEN_ADMIN", "127.0.0.1:19100", func(c *Config) any { return c.Listen.Admin }, "127.0.0.1:19100"},
		{"LISTEN_SERVICE", "127.0.0.1:19200", func(c *Config) any { return c.Listen.Service }, "127.0.0.1:19200"},
		{"STORE_PATH", "/tmp/x.db", func(c *Config) any { return c.Store.Path }, "/tmp/x.db"},
		{"STORE_GROUP_COMMIT_WAIT", "1ms", func(c *Config) any { return c.Store.GroupCommitWait }, time.Millisecond},
		{"STORE_CHECK_WAIT", "0s", func(c *Config) any { return c.Store.CheckWait }, time.Duration(0)},
		{"KEYS_FILE", "/tmp/k.yaml", func(c *Config) any { return c.Keys.File }, "/tmp/k.yaml"},
		{"CAMPUSCODE_VALIDITY", "90s", func(c *Config) any { return c.CampusCode.Validity }, 90 * time.Second},
		{"CAMPUSCODE_SKEW", "5s", func(c *Config) any { return c.CampusCode.Skew }, 5 * time.Second},
		{"CAMPUSCODE_ALGORITHMS", "sm2", func(c *Config) any { return c.CampusCode.Algorithms }, []Algorithm{AlgSM2}},
		{"CAMPUSCODE_CACHE_SIZE", "7", func(c *Config) any { return c.CampusCode.CacheSize }, 7},
		{"CAMPUSCODE_LOSS_BLOCKS_CAMPUS_CODE", "true", func(c *Config) any { return c.CampusCode.LossBlocksCampusCode }, true},
		{"SERVER_MAX_FRAME", "4096", func(c *Config) any { return c.Server.MaxFrame }, 4096},
		{"SERVER_IDLE_TIMEOUT", "1m", func(c *Config) any { return c.Server.IdleTimeout }, time.Minute},
		{"SERVER_MAX_CONNS", "10", func(c *Config) any { return c.Server.MaxConns }, 10},
		{"GATEWAY_ID", "north-1", func(c *Config) any { return c.Gateway.ID }, "north-1"},
		{"SERVER_WORKERS", "4", func(c *Config) any { return c.Server.Workers }, 4},
		{"SERVER_MAX_IN_FLIGHT", "2", func(c *Config) any { return c.Server.MaxInFlight }, 2},
		{"SERVER_MULTICORE", "false", func(c *Config) any { return c.Server.Multicore }, false},
		{"SERVER_GOGC", "800", func(c *Config) any { return c.Server.GOGC }, 800},
		{"SERVER_MEMORY_LIMIT_MB", "2048", func(c *Config) any { return c.Server.MemoryLimitMB }, 2048},
		{"SERVER_GOMAXPROCS", "6", func(c *Config) any { return c.Server.GoMaxProcs }, 6},
		{"SERVER_FRAME_TIMEOUT", "2s", func(c *Config) any { return c.Server.FrameTimeout }, 2 * time.Second},
		{"SERVER_MAX_CONNS_PER_ADDR", "8", func(c *Config) any { return c.Server.MaxConnsPerAddr }, 8},
		{"SERVER_TRUSTED_ADDRS", "10.20.0.0/16, 192.168.7.1", func(c *Config) any { return c.Server.TrustedPrefixes },
			[]netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("192.168.7.1/32")}},
		{"SERVER_MAX_CONNS_PER_TRUSTED_ADDR", "500", func(c *Config) any { return c.Server.MaxConnsPerTrustedAddr }, 500},
		{"SERVER_BUFFER_BUDGET_MB", "64", func(c *Config) any { return c.Server.BufferBudget() }, int64(64 << 20)},
		{"LIMITS_DAILY_FEN", "100000", func(c *Config) any { return c.Limits.DailyFen }, int64(100000)},
		{"LIMITS_TOPUP_MAX_FEN", "50000", func(c *Config) any { return c.Limits.TopupMaxFen }, int64(50000)},
		{"LIMITS_WALLET_LIMIT_FEN", "500", func(c *Config) any { return c.Limits.WalletLimitFen }, int64(500)},
		{"LIMITS_ADVICE_MAX_FEN", "30000", func(c *Config) any { return c.Limits.AdviceMaxFen }, int64(30000)},
		{"CENTRE_URL", "https://centre.example", func(c *Config) any { return c.Centre.URL }, "https://centre.example"},
		{"CENTRE_TIMEOUT", "2s", func(c *Config) any { return c.Centre.Timeout }, 2 * time.Second},
		{"CENTRE_TLS_CA_FILE", "example.yaml", func(c *Config) any { return c.Centre.TLS.CAFile }, "example.yaml"},
		{"CENTRE_TLS_INSECURE_SKIP_VERIFY", "true", func(c *Config) any { return c.Centre.TLS.InsecureSkipVerify }, true},
		{"STANDIN_PER_TXN_FEN", "100", func(c *Config) any { return c.StandIn.PerTxnFen }, int64(100)},
		{"STANDIN_PER_ACCOUNT_FEN", "30000", func(c *Config) any { return c.StandIn.PerAccountFen }, int64(30000)},
		{"PAYMENTS_URL", "http://127.0.0.1:7000/pay", func(c *Config) any { return c.Payments.URL }, "http://127.0.0.1:7000/pay"},
		{"PAYMENTS_POLL_LIMIT", "20s", func(c *Config) any { return c.Payments.PollLimit }, 20 * time.Second},
		{"PAYMENTS_POLL_INTERVAL", "500ms", func(c *Config) any { return c.Payments.PollInterval }, 500 * time.Millisecond},
		{"PAYMENTS_MAX_PENDING", "64", func(c *Config) any { return c.Payments.MaxPending }, 64},
		{"PAYMENTS_MAX_PENDING_PER_TERMINAL", "3", func(c *Config) any { return c.Payments.MaxPendingPerTerminal }, 3},
		{"CENTRE_BREAKER_FAILURES", "5", func(c *Config) any { return c.Centre.BreakerFailures }, 5},
		{"CENTRE_BREAKER_OPEN", "10s", func(c *Config) any { return c.Centre.BreakerOpen }, 10 * time.Second},
		{"LOG_LEVEL", "debug", func(c *Config) any { return c.Log.Level }, "debug"},
		{"LOG_FORMAT", "json", func(c *Config) any { return c.Log.Format }, "json"},
		{"CARDIO_ENABLED", "true", func(c *Config) any { return c.CardIO.Enabled }, true},
		{"FORWARD_NATS_URL", "nats://127.0.0.1:4222", func(c *Config) any { return c.Forward.NATS.URL }, "nats://127.0.0.1:4222"},
		{"FORWARD_NATS_STREAM", "CAMPUS_A", func(c *Config) any { return c.Forward.NATS.Stream }, "CAMPUS_A"},
		{"FORWARD_NATS_SUBJECT", "campus.a.records", func(c *Config) any { return c.Forward.NATS.Subject }, "campus.a.records"},
		{"FORWARD_NATS_REPLAY_BUCKET", "replay", func(c *Config) any { return c.Forward.NATS.ReplayBucket }, "replay"},
		{"SESSION_KEY_LIFETIME", "12h", func(c *Config) any { return c.Session.KeyLifetime }, 12 * time.Hour},
		{"FORWARD_NATS_TLS_CA_FILE", "example.yaml", func(c *Config) any { return c.Forward.NATS.TLS.CAFile }, "example.yaml"},
		{"FORWARD_NATS_TLS_INSECURE_SKIP_VERIFY", "true", func(c *Config) any { return c.Forward.NATS.TLS.InsecureSkipVerify }, true},
		{"FORWARD_NATS_INSECURE", "true", func(c *Config) any { return c.Forward.NATS.Insecure }, true},
		{"CENTRE_INSECURE", "true", func(c *Config) any { return c.Centre.Insecure }, true},
		{"PAYMENTS_INSECURE", "true", func(c *Config) any { return c.Payments.Insecure }, true},
		{"PAYMENTS_WECHAT_APP_ID", "wx2421b1c4370ec43b", func(c *Config) any { return c.Payments.WeChat.AppID }, "wx2421b1c4370ec43b"},
		{"PAYMENTS_WECHAT_MCH_ID", "10000100", func(c *Config) any { return c.Payments.WeChat.MchID }, "10000100"},
		{"PAYMENTS_WECHAT_CLIENT_IP", "10.0.0.5", func(c *Config) any { return c.Payments.WeChat.ClientIP }, "10.0.0.5"},
		{"PAYMENTS_WECHAT_CA_FILE", "example.yaml", func(c *Config) any { return c.Payments.WeChat.CAFile }, "example.yaml"},
		{"PAYMENTS_WECHAT_INSECURE", "true", func(c *Config) any { return c.Payments.WeChat.Insecure }, true},
		{"PAYMENTS_ALIPAY_APP_ID", "2014072300007148", func(c *Config) any { return c.Payments.Alipay.AppID }, "2014072300007148"},
		{"PAYMENTS_ALIPAY_CA_FILE", "example.yaml", func(c *Config) any { return c.Payments.Alipay.CAFile }, "example.yaml"},
		{"PAYMENTS_ALIPAY_INSECURE", "true", func(c *Config) any { return c.Payments.Alipay.Insecure }, true},
		{"ADMIN_TRANSFER_TIMEOUT", "30m", func(c *Config) any { return c.Admin.TransferTimeout }, 30 * time.Minute},
		{"ADMIN_ALLOWED_HOSTS", "gw1.mgmt.example", func(c *Config) any { return c.Admin.AllowedHosts }, []string{"gw1.mgmt.example"}},
		{"RETENTION_JOURNAL", "8760h", func(c *Config) any { return c.Retention.Journal }, 8760 * time.Hour},
		{"RETENTION_OUTBOX", "720h", func(c *Config) any { return c.Retention.Outbox }, 720 * time.Hour},
		{"RETENTION_IDEMPOTENCY", "2160h", func(c *Config) any { return c.Retention.Idempotency }, 2160 * time.Hour},
		{"RETENTION_ARCHIVE_DIR", "/srv/archive", func(c *Config) any { return c.Retention.ArchiveDir }, "/srv/archive"},
		{"RETENTION_INTERVAL", "10m", func(c *Config) any { return c.Retention.Interval }, 10 * time.Minute},
	}
	// Every key with a default must have a case here, so a new key cannot
	// silently miss its environment override. Lists of mappings cannot come
	// from the environment; the TLS pair is in TestEnvTLSPair.
	have := map[string]bool{
		"TERMINALS": true, "CAMPUSCODE_ISSUERS": true, "CARDIO_READERS": true,
		"CENTRE_TLS_CERT_FILE": true, "CENTRE_TLS_KEY_FILE": true,
		// Files that must exist, some owner-only: TestUpstreamPrivateFilesMustBeOwnerOnly.
		"FORWARD_NATS_TLS_CERT_FILE": true, "FORWARD_NATS_TLS_KEY_FILE": true, "FORWARD_NATS_NKEY_FILE": true,
		// A channel url needs its app_id with it: TestChannelConfig.
		"PAYMENTS_WECHAT_URL": true, "PAYMENTS_ALIPAY_URL": true,
	}
	for _, tc := range cases {
		have[tc.env] = true
	}
	for k := range defaults() {
		require.True(t, have[strings.ToUpper(strings.ReplaceAll(k, ".", "_"))], "no env override case for %s", k)
	}
	for _, tc := range cases {
		t.Run(tc.env, func(t *testing.T) {
			if strings.HasSuffix(tc.env, "_TLS_CA_FILE") {
				t.Chdir(testdata)
			}
			t.Setenv("ECARDGW_"+tc.env, tc.val)
			// MODE=connected needs a centre, a retention an archive
			// directory; give them from the file side.
			path := filepath.Join(t.TempDir(), "c.yaml")
			require.NoError(t, os.WriteFile(path, []byte("centre: {url: \"http://127.0.0.1:1\"}\nlisten: {pos: 127.0.0.1:1}\n"+
				"retention: {archive_dir: /var/lib/ecardgw/archive}\n"), 0o600))
			c, err := Load(path)
			require.NoError(t, err)
			require.Equal(t, tc.want, tc.got(c))
		})
	}
}

func TestEnvBeatsFile(t *testing.T) {
	t.Setenv("ECARDGW_LISTEN_POS", "127.0.0.1:18583")
	c, err := Load(filepath.Join(testdata, "example.yaml"))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:18583", c.Listen.POS)
}

func TestEnvTLSPair(t *testing.T) {
	t.Chdir(testdata)
	t.Setenv("ECARDGW_CENTRE_TLS_CERT_FILE", "example.yaml")
	_, err := Load("")
	require.ErrorContains(t, err, "config: centre.tls: cert_file and key_file must be set together")
	// A private key file must be owner-only (git keeps no modes: make one).
	key := filepath.Join(t.TempDir(), "gw.key")
	require.NoError(t, os.WriteFile(key, []byte("key"), 0o600))
	t.Setenv("ECARDGW_CENTRE_TLS_KEY_FILE", key)
	c, err := Load("")
	require.NoError(t, err)
	require.Equal(t, TLS{CertFile: "example.yaml", KeyFile: key}, c.Centre.TLS)
}

func TestEnvInvalidNamesKey(t *testing.T) {
	t.Setenv("ECARDGW_SERVER_WORKERS", "many")
	_, err := Load("")
	require.ErrorContains(t, err, "config: server.workers:")
	require.ErrorIs(t, err, ErrInvalid)
}

// Each bad-*.yaml starts with "# want: <text>"; loading it must fail with
// an error containing that text (the key's name at least).
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdata, "bad-*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 40)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			want := wantLine(t, f)
			_, err := Load(f)
			require.Error(t, err)
			require.Contains(t, err.Error(), want)
			require.True(t, strings.HasPrefix(err.Error(), "config: "), err.Error())
			require.True(t, errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrRead), err.Error())
		})
	}
}

func wantLine(t *testing.T, path string) string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	require.True(t, sc.Scan())
	want, ok := strings.CutPrefix(sc.Text(), "# want: ")
	require.True(t, ok, "%s must start with '# want: '", path)
	return want
}

func TestUnknownKeyIsTyped(t *testing.T) {
	_, err := Load(filepath.Join(testdata, "bad-unknown-top.yaml"))
	require.ErrorIs(t, err, ErrUnknownKey)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "colour", ce.Key)
}

func TestSeveralProblemsAllReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte("mode: x\nlog: {level: loud, format: xml}\n"), 0o600))
	_, err := Load(path)
	require.ErrorContains(t, err, "config: mode:")
	require.ErrorContains(t, err, "config: log.level:")
	require.ErrorContains(t, err, "config: log.format:")
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.ErrorIs(t, err, ErrRead)
	require.ErrorContains(t, err, "no such file")
}

func TestWarnings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	cfg := `terminals: [{id: T0000001, merchant: M00000000000001, type: pos}]
campuscode:
  algorithms: [ed25519]
  issuers: [{key_id: 2, algorithm: sm2, public_key: 0350ddb257d53544dffe7f0db7e1a9bad452f144a80f0fabdf681c281cf96e46c2}]
centre: {url: "http://127.0.0.1:1", tls: {insecure_skip_verify: true}}
cardio: {enabled: true, readers: [{match: "PCD", terminal: T0000001, role: desk}]}
`
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	c, err := Load(path)
	require.NoError(t, err)
	w := strings.Join(c.Warnings, "\n")
	require.Contains(t, w, "campuscode.issuers[0] uses sm2")
	require.Contains(t, w, "insecure_skip_verify")
	require.Contains(t, w, `cardio.readers[0].terminal "T0000001"`)
	require.NotContains(t, w, "no terminals")
}

func TestConnectedMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte("mode: connected\ncentre: {url: \"https://centre.campus.example/api\"}\n"), 0o600))
	c, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, ModeConnected, c.Mode)
}

func TestDiffTerminals(t *testing.T) {
	a := Terminal{ID: "T0000001", Merchant: "M00000000000001", Type: TerminalPOS}
	b := Terminal{ID: "T0000002", Merchant: "M00000000000001", Type: TerminalPOS}
	c := Terminal{ID: "K0000001", Merchant: "M00000000000003", Type: TerminalKiosk}
	b2 := b
	b2.Location = "moved"
	added, removed, changed := DiffTerminals([]Terminal{a, b}, []Terminal{c, b2})
	require.Equal(t, []string{"K0000001"}, added)
	require.Equal(t, []string{"T0000001"}, removed)
	require.Equal(t, []string{"T0000002"}, changed)

	added, removed, changed = DiffTerminals([]Terminal{a, b}, []Terminal{b, a})
	require.Empty(t, added)
	require.Empty(t, removed)
	require.Empty(t, changed)
}

// Trusted addresses are single addresses or CIDR ranges; host bits are
// cleared, and each bad entry is named by its index.
func TestTrustedAddrs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	write := func(list string) {
		require.NoError(t, os.WriteFile(path, []byte("server: {trusted_addrs: "+list+"}\n"), 0o600))
	}
	write(`[10.20.3.4/16, 192.168.7.1, "fd00::7", "fd00:1::/32"]`)
	c, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("192.168.7.1/32"),
		netip.MustParsePrefix("fd00::7/128"), netip.MustParsePrefix("fd00:1::/32"),
	}, c.Server.TrustedPrefixes)
	require.NotContains(t, strings.Join(c.Warnings, "\n"), "every address is trusted")

	write(`[]`)
	c, err = Load(path)
	require.NoError(t, err)
	require.Empty(t, c.Server.TrustedPrefixes)

	write(`[0.0.0.0/0]`)
	c, err = Load(path)
	require.NoError(t, err)
	require.Contains(t, strings.Join(c.Warnings, "\n"), "every address is trusted")

	write(`[10.0.0.1/33, "::ffff:10.0.0.1", "fe80::1%eth0", campus, ""]`)
	_, err = Load(path)
	require.ErrorIs(t, err, ErrInvalid)
	for i := range 5 {
		require.ErrorContains(t, err, fmt.Sprintf("server.trusted_addrs[%d]", i))
	}
}

// The buffer budget defaults to a quarter of the memory limit.
func TestBufferBudget(t *testing.T) {
	for _, tc := range []struct {
		s    Server
		want int64
	}{
		{Server{MemoryLimitMB: 1024}, 256 << 20},
		{Server{MemoryLimitMB: 2048}, 512 << 20},
		{Server{MemoryLimitMB: 64}, 16 << 20},
		{Server{}, 256 << 20},
		{Server{MemoryLimitMB: 1024, BufferBudgetMB: 100}, 100 << 20},
		{Server{BufferBudgetMB: 4096}, 4096 << 20},
	} {
		require.Equal(t, tc.want, tc.s.BufferBudget(), "%+v", tc.s)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte("server: {max_conns: 100000, buffer_budget_mb: 64}\n"), 0o600))
	c, err := Load(path)
	require.NoError(t, err)
	require.Contains(t, strings.Join(c.Warnings, "\n"), "server.buffer_budget_mb (64 MB) is less than one request on each of server.max_conns connections (391 MB)")
	d, err := Load("")
	require.NoError(t, err)
	require.NotContains(t, strings.Join(d.Warnings, "\n"), "buffer_budget_mb")
}

func TestRetentionNeedsAnArchive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte("retention: {journal: 8760h}\n"), 0o600))
	_, err := Load(path)
	require.ErrorContains(t, err, "retention.archive_dir: is required when retention.journal or retention.outbox is set")
	require.NoError(t, os.WriteFile(path, []byte("retention: {journal: 8760h, outbox: 720h, archive_dir: /srv/archive}\n"), 0o600))
	c, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, Retention{Journal: 8760 * time.Hour, Outbox: 720 * time.Hour, ArchiveDir: "/srv/archive", Interval: time.Hour}, c.Retention)
	require.True(t, c.Retention.Enabled())
	require.NoError(t, os.WriteFile(path, []byte("retention: {journal: -1h, archive_dir: /srv/archive}\n"), 0o600))
	_, err = Load(path)
	require.ErrorContains(t, err, "retention.journal")
}

// TestGatewayID: gateway.id is checked, and its absence is warned about
// where gateways share a stream.
func TestGatewayID(t *testing.T) {
	for _, ok := range []string{"north-1", "GW_2", "abcdefghijkl"} {
		require.True(t, ValidGatewayID(ok), ok)
	}
	for _, bad := range []string{"", "abcdefghijklm", "a:b", "a b", "北"} {
		require.False(t, ValidGatewayID(bad), bad)
	}
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	_, err := Load(write("gateway: {id: \"a:b\"}\n"))
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "gateway.id")
	c, err := Load(write("forward: {nats: {url: \"nats://127.0.0.1:4222\"}}\n"))
	require.NoError(t, err)
	require.Contains(t, strings.Join(c.Warnings, "\n"), "gateway.id is empty")
	c, err = Load(write("gateway: {id: north-1}\nforward: {nats: {url: \"nats://127.0.0.1:4222\"}}\n"))
	require.NoError(t, err)
	require.Equal(t, "north-1", c.Gateway.ID)
	require.NotContains(t, strings.Join(c.Warnings, "\n"), "gateway.id")
}

// retention.idempotency needs no archive (the journal keeps the records),
// is at least a day, and no longer than retention.journal.
func TestRetentionIdempotency(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	load := func(body string) (*Config, error) {
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
		return Load(path)
	}
	c, err := load("retention: {idempotency: 2160h}\n")
	require.NoError(t, err)
	require.Equal(t, 2160*time.Hour, c.Retention.Idempotency)
	require.True(t, c.Retention.Enabled())
	_, err = load("retention: {idempotency: 1h}\n")
	require.ErrorContains(t, err, "retention.idempotency")
	_, err = load("retention: {idempotency: 9000h, journal: 8760h, archive_dir: /srv/archive}\n")
	require.ErrorContains(t, err, "longer than retention.journal")
}
