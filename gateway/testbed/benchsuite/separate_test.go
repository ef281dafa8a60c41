package benchsuite

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/testbed/posim"
)

func readRunJSON(t *testing.T, baseline bool) *posim.Result {
	t.Helper()
	b, err := os.ReadFile("testdata/posim-run.json")
	require.NoError(t, err)
	r, err := parseRunJSON(b, baseline)
	require.NoError(t, err)
	return r
}

// posim run --json as the separate load client writes it: the gateway's
// run with the bare echo's of the same invocation inside.
func TestParseRunJSON(t *testing.T) {
	r := readRunJSON(t, true)
	require.Equal(t, 20, r.Terminals)
	require.Equal(t, "closed-loop", r.Mode)
	require.Equal(t, int64(11323), r.Answers)
	require.InDelta(t, 11307.38, r.Throughput, 0.01)
	require.InDelta(t, 3.375103, r.Latency.P99, 1e-9)
	require.NotNil(t, r.Baseline)
	require.Equal(t, 20, r.Baseline.Terminals)
	require.Greater(t, r.Baseline.Throughput, r.Throughput)
	require.Nil(t, r.Baseline.Baseline)

	_, err := parseRunJSON([]byte(`{"terminals": 0, "conn_errors": 1000, "first_error": "dial tcp 127.0.0.1:1: connect: connection refused"}`), false)
	require.ErrorIs(t, err, ErrLoadClient)
	require.ErrorContains(t, err, "no terminal connected (1000 failed): dial tcp 127.0.0.1:1: connect: connection refused")

	_, err = parseRunJSON([]byte(`{"terminals": 10, "answers": 5, "duration_s": 1, "throughput": 5}`), true)
	require.ErrorIs(t, err, ErrLoadClient)
	require.ErrorContains(t, err, "no bare echo baseline")

	_, err = parseRunJSON([]byte(`{"terminals": 10, "answers": 5, "duration_s": 1, "throughput": 5, "baseline": {"terminals": 0}}`), true)
	require.ErrorIs(t, err, ErrLoadClient)
	require.ErrorContains(t, err, "baseline: no terminal connected")

	_, err = parseRunJSON([]byte(`[{"terminals": 10}]`), false)
	require.ErrorIs(t, err, ErrLoadClient)
	_, err = parseRunJSON(nil, false)
	require.ErrorIs(t, err, ErrLoadClient)
}

// posim's JSON carries no latency histogram: the halves' counts add up as
// posim.Combine adds them, and the quantiles are the worse half's, never
// the zeros of an empty histogram.
func TestCombineApartKeepsTheWorseHalfsLatency(t *testing.T) {
	a, b := readRunJSON(t, true), readRunJSON(t, true)
	b.Answers, b.Duration = 20_000, 1
	b.Latency.P50, b.Latency.P99, b.Latency.Max = 0.5, 9.5, 12
	c := combineApart(a, b)
	require.Equal(t, a.Answers+20_000, c.Answers)
	require.InDelta(t, float64(a.Answers+20_000)/(a.Duration+1), c.Throughput, 1e-9)
	require.Equal(t, a.Latency.P50, c.Latency.P50, "the worse p50 is a's")
	require.Equal(t, 9.5, c.Latency.P99)
	require.Equal(t, 12.0, c.Latency.Max)
	require.Equal(t, a.Latency.P999, c.Latency.P999)
	require.Nil(t, combineApart())
}

// utime and stime are fields 14 and 15 of /proc/PID/stat, counted after
// the command name, which may hold spaces and parentheses.
func TestProcCPU(t *testing.T) {
	line := "4242 (ecard gw (x)) S 1 4242 4242 0 -1 4194560 1500 0 0 0 250 75 0 0 20 0 12 0 100 0 0"
	d, err := parseProcStat(line, 100)
	require.NoError(t, err)
	require.Equal(t, 3250*time.Millisecond, d)
	_, err = parseProcStat("4242 (gw) S 1", 100)
	require.Error(t, err)
	self, err := procCPU(os.Getpid())
	require.NoError(t, err)
	require.GreaterOrEqual(t, self, time.Duration(0))
}

// A child process is stopped by stop, or by its context, within its
// grace period even if it ignores SIGTERM, and its output is kept.
func TestProcStopsItsChild(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	start := time.Now()
	p, err := startProc(context.Background(), filepath.Join(dir, "a.log"), time.Second, "sh", "-c", "echo started; exec sleep 60")
	require.NoError(t, err)
	require.False(t, p.exited())
	require.Error(t, p.stop(), "killed by SIGTERM")
	require.True(t, p.exited())
	require.Less(t, time.Since(start), 10*time.Second)

	// One that ignores SIGTERM is killed after the grace period.
	start = time.Now()
	p, err = startProc(context.Background(), filepath.Join(dir, "b.log"), 300*time.Millisecond, "sh", "-c", "trap '' TERM; echo ignoring; while :; do sleep 0.05; done")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(p.tail(), "ignoring") }, 10*time.Second, 10*time.Millisecond)
	_ = p.stop()
	require.Less(t, time.Since(start), 10*time.Second)
	require.True(t, p.exited())
	require.Contains(t, p.tail(), "ignoring")

	// Its context ending stops it too; a process that exits on its own
	// reports how.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	p, err = startProc(ctx, filepath.Join(dir, "c.log"), time.Second, "sleep", "60")
	require.NoError(t, err)
	require.Eventually(t, p.exited, 10*time.Second, 10*time.Millisecond)
	p, err = startProc(context.Background(), filepath.Join(dir, "d.log"), time.Second, "sh", "-c", "echo bad config >&2; exit 3")
	require.NoError(t, err)
	require.Eventually(t, p.exited, 10*time.Second, 10*time.Millisecond)
	err = p.stop()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 3, exit.ExitCode())
	require.Contains(t, p.tail(), "bad config")

	_, err = startProc(context.Background(), filepath.Join(dir, "e.log"), time.Second, filepath.Join(dir, "no-such-binary"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// The gateway's profile starts once the purchases have begun (the sign-ins
// are over), asks for the half's length, and carries the admin token.
func TestGatewayProfileWaitsForTheSignIns(t *testing.T) {
	var polls atomic.Int32
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			fmt.Fprintf(w, "ecardgw_pos_requests_total{code=\"00\",mti=\"0800\"} 1000\n"+
				"ecardgw_pos_requests_total{code=\"00\",mti=\"0200\"} %d\n", max(0, 400*(polls.Add(1)-2)))
		case "/debug/pprof/profile":
			if r.Header.Get("Authorization") != "Bearer tok" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			asked = fmt.Sprintf("%s after %d polls", r.URL.Query().Get("seconds"), polls.Load())
			_, _ = w.Write([]byte("profile"))
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	path := filepath.Join(t.TempDir(), "p.pprof")
	require.NoError(t, gatewayProfile(context.Background(), addr, "tok", approvedPurchases, 0, 5*time.Second, path))
	require.Equal(t, "5 after 3 polls", asked)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "profile", string(b))

	err = gatewayProfile(context.Background(), addr, "wrong", approvedPurchases, 0, time.Second, path)
	require.ErrorIs(t, err, ErrChild)
	require.ErrorContains(t, err, "401")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = gatewayProfile(ctx, addr, "tok", approvedPurchases, 1e12, time.Second, path)
	require.ErrorIs(t, err, ErrChild)
	require.ErrorContains(t, err, "waiting for "+approvedPurchases+" to pass 1e+12")
}

// The environment's key file gets an admin token the gateway accepts.
func TestAddAdminToken(t *testing.T) {
	env, err := posim.WriteEnv(posim.EnvSpec{Dir: t.TempDir(), POS: 1, Accounts: 1})
	require.NoError(t, err)
	tok, err := addAdminToken(env)
	require.NoError(t, err)
	keys, err := config.LoadKeys(env.Keys)
	require.NoError(t, err)
	require.True(t, keys.ValidAdminToken(tok))
	require.Len(t, keys.ServiceTokens, 1, "the service token stays")
	require.False(t, keys.ValidAdminToken(string(keys.ServiceTokens[0])))
}

func TestCPUNote(t *testing.T) {
	n := cpuNote(10, 8600*time.Millisecond, 15*time.Second, 5, 100)
	require.Contains(t, n, "(10.0 s of gateway load, as long of baseline, and the sign-ins): the gateway process used 8.6 s")
	require.Contains(t, n, "bare echo server too) 15.0 s, on ")
	require.Contains(t, n, "5% idle meanwhile: the machine is CPU-bound and the simulator takes more of it")
	require.NotContains(t, cpuNote(10, 8*time.Second, 5*time.Second, 5, 100), "CPU-bound")
	require.Contains(t, cpuNote(10, 8*time.Second, 15*time.Second, 50, 100), "50% idle meanwhile.")
	require.NotContains(t, cpuNote(10, time.Second, time.Second, 0, 0), "idle")
}
