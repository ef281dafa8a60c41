package benchsuite

import (
	"fmt"
	"time"
)

// The goals of the durable purchase and restart figures, as issue #21
// fixes them. They are not tuned to results: a figure below its goal is
// reported missed, with what the profiles showed.
const (
	// purchaseGoal: durable card purchases a second at 1,000 terminals,
	// closed loop, as a share of the bare echo's rate in the same run
	// (in-process and with the gateway and the simulator in separate
	// processes alike).
	purchaseGoal = 0.50
	// pacedShare: the latency figures offer this share of the bare
	// echo's closed-loop rate of the same run.
	pacedShare = 0.25
	// p99GoalMs: the purchases' p99 at that offered load, in ms.
	p99GoalMs = 20.0
	// restartGoal: from daemon.New to /readyz 200 over 1,000,000 journal
	// records, the slower of a warm and a cold page cache.
	restartGoal = 500 * time.Millisecond
)

func purchaseGoalText() string { return fmt.Sprintf("≥ %.2f", purchaseGoal) }

func p99GoalText() string { return fmt.Sprintf("p99 ≤ %g ms", p99GoalMs) }

func restartGoalText() string { return fmt.Sprintf("≤ %g s", restartGoal.Seconds()) }
