package daemon_test

import (
	"context"
	"testing"
	"time"

	"ecardgw/gateway/testbed/loadgen"

	"github.com/stretchr/testify/require"
)

// commitCount is the gateway's group commits so far (its commit duration
// histogram's count).
func commitCount(t *testing.T, g *gateway) uint64 {
	t.Helper()
	mfs, err := g.d.Metrics.Registry().Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "ecardgw_store_commit_duration_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("no ecardgw_store_commit_duration_seconds")
	return 0
}

// busyCommits runs 20 terminals buying closed loop for a second against a
// fresh gateway and returns the purchases answered and the group commits
// they took.
func busyCommits(t *testing.T) (answered int64, commits uint64) {
	t.Helper()
	const terms = 20
	g := startGateway(t, gwOptions{terminals: terms, accounts: terms, balance: 1_000_000_000})
	cfg, err := fleet(terms).Purchases(g.addr, terms, time.Second, 0)
	require.NoError(t, err)
	c0 := commitCount(t, g)
	r, err := loadgen.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Zero(t, r.Errors, "%v", r.FirstError)
	require.Positive(t, r.Count)
	return r.Count, commitCount(t, g) - c0
}

// The daemon hands store.group_commit_wait to the store: with 100 ms, a
// busy gateway gathers each group for 100 ms, so a second of purchases
// from 20 terminals takes about ten commits of about twenty approvals;
// with the default (0s) every commit starts as soon as the last one is on
// disk, tens of times as many.
func TestGroupCommitWaitFromTheConfiguration(t *testing.T) {
	n0, c0 := busyCommits(t)
	t.Setenv("ECARDGW_STORE_GROUP_COMMIT_WAIT", "100ms")
	n1, c1 := busyCommits(t)
	t.Logf("default: %d purchases in %d commits; 100ms: %d purchases in %d commits", n0, c0, n1, c1)
	require.LessOrEqual(t, c1, uint64(20), "with a 100 ms wait, about one commit per 100 ms")
	require.GreaterOrEqual(t, float64(n1)/float64(c1), 5.0, "each gathers several terminals' approvals")
	require.Greater(t, c0, 3*c1, "without the wait, commits follow each other")
}
