package benchsuite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/testbed/posim"
)

func TestRecoveryQuantile(t *testing.T) {
	c := recoveryCycle{Terminals: 4, Back: []time.Duration{40, 10, 30, 20}}
	for q, want := range map[float64]time.Duration{0.25: 10, 0.5: 20, 0.99: 40, 1: 40} {
		got, ok := c.quantile(q)
		require.True(t, ok)
		require.Equal(t, want, got, "q=%v", q)
	}
	// One terminal of four never came back: 99 % were not served again.
	c.Back = c.Back[:3]
	_, ok := c.quantile(0.99)
	require.False(t, ok)
	got, ok := c.quantile(0.5)
	require.True(t, ok)
	require.Equal(t, time.Duration(30), got) // two of the four were back by 30
	f := recoveryReport(Figure{}, []recoveryCycle{c})
	require.Equal(t, Missed, f.Status)
}

// TestRecoveryRun runs the crash-recovery figure at a small scale: a real
// ecardgw process killed with SIGKILL under load and started again at once
// on the same ports; every terminal must be served again, with its
// session, well within the figure's window.
func TestRecoveryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test kills a gateway with SIGKILL under load; make test runs it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 20
	dir := t.TempDir()
	posAddr, err := freePort()
	require.NoError(t, err)
	adminAddr, err := freePort()
	require.NoError(t, err)
	env, err := posim.WriteEnv(posim.EnvSpec{Dir: dir, POS: n, Accounts: n, POSAddr: posAddr, AdminAddr: adminAddr})
	require.NoError(t, err)
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	s := &Suite{GoBin: "go", Root: root, Tmp: dir}
	bin, _, err := s.binaries(ctx)
	require.NoError(t, err)
	fleet, err := env.Fleet(posAddr)
	require.NoError(t, err)
	runs, err := runRecovery(ctx, recoveryOptions{Bin: bin, Config: env.Config, AdminAddr: adminAddr, Fleet: fleet,
		Terminals: n, Cycles: 2, Think: 50 * time.Millisecond, Warm: 300 * time.Millisecond,
		Window: 20 * time.Second, Retry: 20 * time.Millisecond})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	for i, c := range runs {
		require.Len(t, c.Back, n, "cycle %d: every terminal is served again", i)
		require.Zero(t, c.SignIns, "cycle %d: sessions survive the kill", i)
		require.Positive(t, c.Before)
		require.Positive(t, c.StoreOpen, "the store's open time is read from the gateway's log")
		require.Positive(t, c.Listening)
		require.GreaterOrEqual(t, c.Ready, c.Listening-time.Millisecond)
		all, ok := c.quantile(1)
		require.True(t, ok)
		require.GreaterOrEqual(t, all, c.Listening, "an approval before the new process listened")
	}
	f := recoveryReport(Figure{Title: recoveryTitle}, runs)
	require.NotEqual(t, NotMeasured, f.Status)
	require.Contains(t, f.Result, "99 %")
}
