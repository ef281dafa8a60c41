package benchsuite

import (
	"context"
	"fmt"

	"ecardgw/gateway/posim"
)

const (
	defaultWorkers = 256 // gateway/server.DefaultWorkers
	probeWorkers   = 4096
)

// workersProbe repeats the closed-loop purchases against a gateway with a
// larger worker pool, to show whether the pool is what caps them.
func (s *Suite) workersProbe(ctx context.Context, conns int) ([]string, float64, error) {
	g, err := startGW(posim.EnvSpec{Dir: s.tmpDir("purchase-probe"), POS: conns, Accounts: conns, Workers: probeWorkers})
	if err != nil {
		return nil, 0, err
	}
	defer g.stop()
	r, err := posim.Run(ctx, g.fleet, posim.Options{Terminals: conns, Mix: posim.Mix{posim.KindCard: 1}, Duration: s.LoadTime})
	if err == nil {
		err = checkRun("probe", r)
	}
	if err != nil {
		return nil, 0, err
	}
	return loadRow(fmt.Sprintf("probe: workers %d", probeWorkers), r), r.Throughput, nil
}

// commits is the gateway's group-commit counters from its /metrics.
type commits struct {
	n, seconds, group              float64
	upTo50ms, upTo100ms, upTo500ms float64 // commits within 0.05, 0.1 and 0.5 s (histogram buckets)
	ok                             bool
}

func scrapeCommits(admin string) commits {
	url := "http://" + admin + "/metrics"
	const d = "ecardgw_store_commit_duration_seconds"
	n, err1 := scrapeGauge(url, d+"_count")
	sec, err2 := scrapeGauge(url, d+"_sum")
	grp, err3 := scrapeGauge(url, "ecardgw_store_commit_group_size_sum")
	b05, err0 := scrapeGauge(url, d+`_bucket{le="0.05"}`)
	b1, err4 := scrapeGauge(url, d+`_bucket{le="0.1"}`)
	b5, err5 := scrapeGauge(url, d+`_bucket{le="0.5"}`)
	return commits{n: n, seconds: sec, group: grp, upTo50ms: b05, upTo100ms: b1, upTo500ms: b5,
		ok: err0 == nil && err1 == nil && err2 == nil && err3 == nil && err4 == nil && err5 == nil}
}

// slow describes the group commits over 100 ms between two scrapes: each
// one holds every request waiting on it.
func (c commits) slow(c0 commits) string {
	if !c.ok || !c0.ok {
		return ""
	}
	n := c.n - c0.n
	over100 := n - (c.upTo100ms - c0.upTo100ms)
	over500 := n - (c.upTo500ms - c0.upTo500ms)
	return fmt.Sprintf("Of the %s group commits during the run, %s took over 100 ms and %s over 500 ms "+
		"(the gateway's commit duration histogram); a slow commit holds every approval waiting on it, and "+
		"shows as a spike in the latency plot.", commas(int64(n)), commas(int64(over100)), commas(int64(over500)))
}

// slow50 describes the group commits over 50 ms between two scrapes.
func (c commits) slow50(c0 commits) string {
	if !c.ok || !c0.ok || c.n <= c0.n {
		return ""
	}
	n := c.n - c0.n
	return fmt.Sprintf("Of the %s group commits during the paced run, %s took over 50 ms and %s over 100 ms "+
		"(the gateway's commit duration histogram); every request waiting on such a commit waits that long "+
		"at least. The next figure measures how often the disk alone takes that long.",
		commas(int64(n)), commas(int64(n-(c.upTo50ms-c0.upTo50ms))), commas(int64(n-(c.upTo100ms-c0.upTo100ms))))
}

// rate is the group commits a second between two scrapes.
func (c commits) rate(c0 commits, runSeconds float64) float64 {
	if !c.ok || !c0.ok || c.n <= c0.n || runSeconds <= 0 {
		return 0
	}
	return (c.n - c0.n) / runSeconds
}

// since describes the group commits between two scrapes.
func (c commits) since(c0 commits, runSeconds float64) string {
	if !c.ok || !c0.ok || c.n <= c0.n || runSeconds <= 0 {
		return ""
	}
	n := c.n - c0.n
	return fmt.Sprintf("The gateway's own metrics over the run: %s group commits (%.0f a second), each %.1f ms "+
		"on average from the first request joining to the fsync returning, carrying %.0f approvals on average.",
		commas(int64(n)), n/runSeconds, 1000*(c.seconds-c0.seconds)/n, (c.group-c0.group)/n)
}
