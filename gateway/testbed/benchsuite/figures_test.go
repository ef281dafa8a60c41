package benchsuite

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/testbed/posim"
)

// A benchmark or metric missing from the output (renamed) fails the
// figure naming it, instead of a dash in its table or a zero in a ratio.
func TestMissingBenchmarkIsNamed(t *testing.T) {
	benches, _ := parseFile(t, "campuscode.txt")
	m := &medians{benches: benches}
	tbl := benchTable(m, []string{"BenchmarkVerifyEd25519Cached"}, []string{"ns/op", "allocs/op"})
	require.NoError(t, m.err)
	require.Equal(t, []string{"BenchmarkVerifyEd25519Cached", "71,249", "0.00"}, tbl.Rows[0])

	benchTable(m, []string{"BenchmarkVerifyEd25519Cached", "BenchmarkVerifyEd25519Warm"}, []string{"ns/op"})
	require.ErrorIs(t, m.err, ErrMissing)
	require.ErrorContains(t, m.err, "BenchmarkVerifyEd25519Warm ns/op")

	m = &medians{benches: benches}
	m.get("BenchmarkVerifyEd25519Cached", "pages/op")
	require.ErrorIs(t, m.err, ErrMissing)
	require.ErrorContains(t, m.err, "BenchmarkVerifyEd25519Cached pages/op")
}

// The capacity figures, in-process and separate, are judged against
// issue #21's goal: half the bare echo's rate.
func TestClosedLoopResultJudgesHalfTheBareEcho(t *testing.T) {
	base := &posim.Result{Terminals: 1000, Mode: "closed-loop", Throughput: 100_000}
	r := &posim.Result{Terminals: 1000, Mode: "closed-loop", Throughput: 40_000}
	f := Figure{Goal: purchaseGoalText()}
	closedLoopResult(&f, base, r)
	require.Equal(t, "≥ 0.50", f.Goal)
	require.Equal(t, "40,000 purchases/s vs 100,000: **0.40** of bare echo", f.Result)
	require.Equal(t, Missed, f.Status)
	require.Equal(t, "missed by 20%", f.Margin)
	require.Equal(t, []string{"bare echo", "1000", "closed-loop", "100,000", "0.00", "0.00", "0", "0"}, f.Tables[0].Rows[0])
	require.Equal(t, "gateway purchases", f.Tables[0].Rows[1][0])
	require.Empty(t, f.Notes)

	r.Throughput, r.Errors, r.Declined, r.FirstError = 60_000, 3, 2, "read: EOF"
	f = Figure{}
	closedLoopResult(&f, base, r)
	require.Equal(t, Met, f.Status)
	require.Equal(t, "met with 20% to spare", f.Margin)
	require.Equal(t, []string{"3 errors and 2 declines during the run (first error: read: EOF)."}, f.Notes)
}

// The latency figures, in-process and separate: p99 ≤ 20 ms at a quarter
// of the bare echo's rate.
func TestPacedResultJudgesTheP99(t *testing.T) {
	p := &posim.Result{Terminals: 1000, Mode: "think", Throughput: 24_900, Latency: posim.Latency{P50: 1.5, P99: 25}}
	lat := Figure{Goal: p99GoalText()}
	pacedResult(&lat, p, 25_000, 40_000, 40*time.Millisecond)
	require.Equal(t, "p99 ≤ 20 ms", lat.Goal)
	require.Equal(t, "p99 **25.0 ms** (p50 1.50 ms) at 25,000 purchases/s offered, 24,900 answered", lat.Result)
	require.Equal(t, Missed, lat.Status)
	require.Equal(t, "missed by 25%", lat.Margin)
	require.Equal(t, "paced, think 40ms (offered 25,000/s)", lat.Tables[0].Rows[0][0])
	require.Len(t, lat.Notes, 1)
	require.Contains(t, lat.Notes[0], "is 62% of the gateway's closed-loop capacity measured just before (40,000/s)")

	lat = Figure{}
	pacedResult(&lat, p, 25_000, 20_000, 40*time.Millisecond)
	require.Len(t, lat.Notes, 1)
	require.Contains(t, lat.Notes[0], "is above the gateway's closed-loop capacity measured just before (20,000/s)")

	p.Latency.P99, p.Late = 19, 1234
	lat = Figure{}
	pacedResult(&lat, p, 25_000, 40_000, 40*time.Millisecond)
	require.Equal(t, Met, lat.Status)
	require.Equal(t, "met with 5.0% to spare", lat.Margin)
	require.Equal(t, []string{"1,234 sends left more than half a think time after their due time (the terminal was still waiting for the previous answer)."}, lat.Notes)
}

func TestGoalsOfIssue21(t *testing.T) {
	require.Equal(t, "≥ 0.50", purchaseGoalText())
	require.Equal(t, "p99 ≤ 20 ms", p99GoalText())
	require.Equal(t, "≤ 0.5 s", restartGoalText())
	require.Equal(t, 0.25, pacedShare)
	s, m := margin((600 * time.Millisecond).Seconds(), restartGoal.Seconds(), false)
	require.Equal(t, Missed, s)
	require.Equal(t, "missed by 20%", m)
	require.Contains(t, pacedWhat(1000), "\"p99 ≤ 20 ms\" only makes sense")
	require.Contains(t, pacedWhat(1000), "0.25 × the bare echo's closed-loop rate")
	require.NotContains(t, pacedWhat(1000), "50 ms")
}

func TestProcsNoteOnlyWhenSet(t *testing.T) {
	require.Empty(t, procsNote(0))
	require.Contains(t, procsNote(4), "GOMAXPROCS 4")
}

// A gateway the suite starts as a process runs at its own GOMAXPROCS
// default: the value Run put in its own environment for the in-process
// figures stays out of the child's, an operator's stays in.
func TestChildEnvLeavesTheSuitesGOMAXPROCSOut(t *testing.T) {
	t.Setenv("GOMAXPROCS", "2")
	setProcsEnv = true
	t.Cleanup(func() { setProcsEnv = false })
	env := childEnv("ECARDGW_LOG_LEVEL=info")
	require.NotContains(t, env, "GOMAXPROCS=2")
	require.Contains(t, env, "ECARDGW_LOG_LEVEL=info")
	setProcsEnv = false
	require.Contains(t, childEnv(), "GOMAXPROCS=2", "an operator's GOMAXPROCS was dropped")
}

func TestIdemLogNote(t *testing.T) {
	require.Empty(t, idemLogNote("the paced run", -1, 10))
	n := idemLogNote("the paced run", 20000, 18000)
	require.Contains(t, n, "held 20,000 values not yet merged when the paced run began and 18,000 at its end")
	require.NotContains(t, n, "behind")
	require.Contains(t, idemLogNote("the paced run", 20000, 44000), "the merges were behind")
}
