package posim

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/daemon"
	"ecardgw/gateway/testbed/refcentre"
)

// TestRunAgainstGateway is the end-to-end run the issue asks for: 20
// terminals for 2 s with card purchases, inquiries and campus codes
// against an in-process gateway, then the JSON read back.
func TestRunAgainstGateway(t *testing.T) {
	dir := t.TempDir()
	env, err := WriteEnv(EnvSpec{Dir: dir, POS: 20, Settlement: 2, Accounts: 40})
	require.NoError(t, err)
	d, err := env.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Stop() })

	plan, err := ParseRunArgs([]string{"--config", env.Config, "--accounts", env.Accounts,
		"--issuer-key", env.IssuerKey, "--addr", d.POSAddr().String(), "--terminals", "20",
		"--mix", "card=60,code=25,inquiry=10,wallet=5", "--duration", "2s",
		"--json", filepath.Join(dir, "out.json"), "--png", filepath.Join(dir, "lat.png")})
	require.NoError(t, err)
	var out, progress lockedBuffer
	res, err := Execute(context.Background(), plan, &out, &progress, false)
	require.NoError(t, err)
	require.Len(t, res, 1)

	var got Result
	b, err := os.ReadFile(filepath.Join(dir, "out.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, 20, got.Terminals)
	require.Zero(t, got.ConnErrors)
	require.Zero(t, got.Errors, "first error: %s", got.FirstError)
	require.Zero(t, got.Declined, "kinds: %+v", got.Kinds)
	require.Positive(t, got.Approved)
	require.Equal(t, got.Count, got.Approved)
	for _, k := range []string{"card", "code", "inquiry", "wallet"} {
		require.Positive(t, got.Kinds[k].OK, "kind %s: %+v", k, got.Kinds[k])
	}
	require.InDelta(t, 2.0, got.Duration, 1.0)
	require.NotEmpty(t, got.Timeline)
	require.LessOrEqual(t, got.Latency.P50, got.Latency.P99)
	var binned int64
	for _, bin := range got.Histogram {
		binned += bin.Count
	}
	require.Equal(t, got.Answers, binned)
	require.Contains(t, out.String(), "latency ms: p50")
	require.Contains(t, progress.String(), "answers")
	require.FileExists(t, filepath.Join(dir, "lat.png"))
}

func TestRunCountAndThink(t *testing.T) {
	f, _ := startFleet(t, EnvSpec{Dir: t.TempDir(), POS: 4, Accounts: 4})

	started := 0
	r, err := Run(context.Background(), f, Options{Terminals: 4, Mix: Mix{KindCard: 1}, Count: 50,
		OnStart: func() { started++ }})
	require.NoError(t, err)
	require.Equal(t, int64(50), r.Approved)
	require.Equal(t, 1, started)
	require.Equal(t, "closed-loop", r.Mode)

	// Paced: 4 terminals, 100 ms think → 40/s offered, ~20 in 0.5 s.
	r, err = Run(context.Background(), f, Options{Terminals: 4, Mix: Mix{KindInquiry: 1},
		Think: 100 * time.Millisecond, Duration: 500 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, "think", r.Mode)
	require.InDelta(t, 40, r.Offered, 0.01)
	require.InDelta(t, float64(ScheduledIn(4, 100*time.Millisecond, 500*time.Millisecond)), float64(r.Approved), 2)
}

func TestRunRefuses(t *testing.T) {
	f := &Fleet{Addr: "192.0.2.1:8583"}
	_, err := Run(context.Background(), f, Options{Terminals: 1, Mix: Mix{KindEcho: 1}, Count: 1})
	require.ErrorIs(t, err, ErrNotLoopback)

	f.Addr = "127.0.0.1:1"
	_, err = Run(context.Background(), f, Options{Terminals: 1, Mix: Mix{KindCode: 1}, Count: 1})
	require.ErrorIs(t, err, ErrFleet)
	_, err = Run(context.Background(), f, Options{Terminals: MaxTerminals + 1, Mix: Mix{KindEcho: 1}, Count: 1})
	require.ErrorIs(t, err, ErrLimit)
	_, err = Run(context.Background(), f, Options{Terminals: 1, Mix: Mix{KindEcho: 1}, Duration: 11 * time.Minute})
	require.ErrorIs(t, err, ErrLimit)
	// Port 1: below the ephemeral range, so neither another test's listener
	// nor a dial's own source port (a TCP self-connect) can be there.
	f.Addr = "127.0.0.1:1"
	_, err = Run(context.Background(), f, Options{Terminals: 1, Mix: Mix{KindEcho: 1}, Count: 1, Raw: true})
	require.ErrorIs(t, err, ErrNoTerminal, "nothing listens on %s", f.Addr)
}

func TestBaseline(t *testing.T) {
	r, err := RunBaseline(context.Background(), 4, 300*time.Millisecond, 0, nil, false)
	require.NoError(t, err)
	require.Positive(t, r.Throughput)
	require.Zero(t, r.Errors)
	g := &Result{Throughput: r.Throughput / 2}
	g.WithBaseline(r)
	require.InDelta(t, 0.5, g.Ratio, 1e-9)
}

func TestHold(t *testing.T) {
	f, d := startFleet(t, EnvSpec{Dir: t.TempDir(), POS: 30, Accounts: 1})
	h, err := Hold(context.Background(), f, 30, 8)
	require.NoError(t, err)
	require.Equal(t, 30, h.Len())
	require.Zero(t, h.ConnErrors)
	require.Equal(t, 30, d.Engine.Sessions())
	h.Close()
	_, err = Hold(context.Background(), f, 31, 8)
	require.ErrorIs(t, err, ErrLimit)
}

// A card's wallet state carries over from one run to the next in the same
// process, so a second run's loads are not refused as counter reuse.
func TestWalletAcrossRuns(t *testing.T) {
	f, _ := startFleet(t, EnvSpec{Dir: t.TempDir(), POS: 2, Settlement: 2, Accounts: 4})
	for run := range 2 {
		r, err := Run(context.Background(), f, Options{Terminals: 4, Mix: Mix{KindWallet: 1, KindCard: 1}, Count: 40})
		require.NoError(t, err)
		require.Equal(t, int64(40), r.Approved, "run %d: %+v", run, r.Kinds)
		require.Positive(t, r.Kinds["wallet"].OK, "run %d", run)
	}
}

// WeChat and Alipay codes go through the gateway's payments.url to the
// reference centre's payment simulator, which pays them.
func TestThirdPartyAgainstReferenceCentre(t *testing.T) {
	c, err := refcentre.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	srv, err := c.Listen("127.0.0.1:0", nil)
	require.NoError(t, err)
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })

	f, _ := startFleet(t, EnvSpec{Dir: t.TempDir(), POS: 3, Accounts: 3, PaymentsURL: "http://" + srv.Addr()})
	r, err := Run(context.Background(), f, Options{Terminals: 3, Mix: Mix{KindWeChat: 1, KindAlipay: 1}, Count: 20, Seed: 7})
	require.NoError(t, err)
	require.Equal(t, int64(20), r.Approved, "%+v %s", r.Kinds, r.FirstError)
	require.Positive(t, r.Kinds["wechat"].OK)
	require.Positive(t, r.Kinds["alipay"].OK)
}

// With --json -, standard output is one JSON document (the summary goes
// to the progress writer).
func TestJSONOnStandardOutput(t *testing.T) {
	env, err := WriteEnv(EnvSpec{Dir: t.TempDir(), POS: 2, Accounts: 2})
	require.NoError(t, err)
	d, err := env.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Stop() })
	plan, err := ParseRunArgs([]string{"--config", env.Config, "--accounts", env.Accounts, "--addr", d.POSAddr().String(),
		"--terminals", "2", "--mix", "card=1,inquiry=1", "--count", "10", "--json", "-"})
	require.NoError(t, err)
	var out, progress lockedBuffer
	_, err = Execute(context.Background(), plan, &out, &progress, false)
	require.NoError(t, err)
	var got Result
	require.NoError(t, json.Unmarshal([]byte(out.String()), &got))
	require.Equal(t, int64(10), got.Approved)
	require.Contains(t, progress.String(), "latency ms: p50")
}

// TestRunDoubleLengthMAK: terminals configured with `mak: 3des` sign in
// with a double-length MAK and posim checks their answers' X9.19 MACs.
func TestRunDoubleLengthMAK(t *testing.T) {
	f, _ := startFleet(t, EnvSpec{Dir: t.TempDir(), POS: 2, Accounts: 2, DoubleMAK: true})
	for _, pt := range f.POS {
		require.True(t, pt.DoubleMAK, pt.ID)
	}
	r, err := Run(context.Background(), f, Options{Terminals: 2, Mix: Mix{KindCard: 1, KindInquiry: 1}, Count: 40})
	require.NoError(t, err)
	require.Equal(t, int64(40), r.Approved)
	require.Zero(t, r.Errors)
}

// startFleet writes an environment for spec, runs its gateway in this
// process until the test ends and returns the fleet aimed at it.
func startFleet(t *testing.T, spec EnvSpec) (*Fleet, *daemon.Daemon) {
	t.Helper()
	env, err := WriteEnv(spec)
	require.NoError(t, err)
	d, err := env.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Stop() })
	f, err := env.Fleet(d.POSAddr().String())
	require.NoError(t, err)
	return f, d
}
