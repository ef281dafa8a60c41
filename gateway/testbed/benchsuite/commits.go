package benchsuite

import "fmt"

// slowBounds are the commit duration histogram's bounds, in ms, that the
// notes count slow commits against.
var slowBounds = []int{25, 50, 100, 500}

// commits is the gateway's group-commit counters from its /metrics.
type commits struct {
	n, seconds, group float64
	upTo              map[int]float64 // commits within each of slowBounds (histogram buckets)
	ok                bool
	err               error // why not ok: the first sample that could not be read, named
}

// scrapeCommits reads the group-commit metrics. A figure that uses them
// fails with err when one is missing (a renamed metric), rather than
// leaving its notes out.
func scrapeCommits(admin string) commits {
	url := "http://" + admin + "/metrics"
	const d = "ecardgw_store_commit_duration_seconds"
	c := commits{upTo: make(map[int]float64, len(slowBounds))}
	page, err := scrapeMetrics(url)
	if err != nil {
		c.err = fmt.Errorf("group-commit metrics: %w", err)
		return c
	}
	read := func(name string) float64 {
		v, err := page.value(name)
		if err != nil && c.err == nil {
			c.err = fmt.Errorf("group-commit metrics: %w", err)
		}
		return v
	}
	c.n, c.seconds, c.group = read(d+"_count"), read(d+"_sum"), read("ecardgw_store_commit_group_size_sum")
	for _, ms := range slowBounds {
		c.upTo[ms] = read(fmt.Sprintf(`%s_bucket{le="%g"}`, d, float64(ms)/1000))
	}
	c.ok = c.err == nil
	return c
}

// over is how many of the group commits between two scrapes took over ms
// (one of slowBounds).
func (c commits) over(c0 commits, ms int) int64 {
	return int64(c.n - c0.n - (c.upTo[ms] - c0.upTo[ms]))
}

// slow describes the group commits between two scrapes that took over lo
// and over hi ms (two of slowBounds), then what such a commit means for
// the figure.
func (c commits) slow(c0 commits, during string, lo, hi int, meaning string) string {
	if !c.ok || !c0.ok || c.n <= c0.n {
		return ""
	}
	return fmt.Sprintf("Of the %s group commits during %s, %s took over %d ms and %s over %d ms (the gateway's "+
		"commit duration histogram); %s", commas(int64(c.n-c0.n)), during, commas(c.over(c0, lo)), lo,
		commas(c.over(c0, hi)), hi, meaning)
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
	r := c.rate(c0, runSeconds)
	if r == 0 {
		return ""
	}
	n := c.n - c0.n
	return fmt.Sprintf("The gateway's own metrics over the run: %s group commits (%.0f a second), each %.1f ms "+
		"on average from the first request joining to the fsync returning, carrying %.0f approvals on average.",
		commas(int64(n)), r, 1000*(c.seconds-c0.seconds)/n, (c.group-c0.group)/n)
}

// idemLogMetric is the gauge of idempotency values the store's logs hold,
// not yet merged; idemLogKeepsUp is the most it holds while the merges
// keep up with the load (store/idemlog.go).
const (
	idemLogMetric  = "ecardgw_store_idempotency_log_values"
	idemLogKeepsUp = 32768
)

// scrapeIdemLog reads idemLogMetric (-1 when it cannot be read).
func scrapeIdemLog(admin string) float64 {
	v, err := scrapeGauge("http://"+admin+"/metrics", idemLogMetric)
	if err != nil {
		return -1
	}
	return v
}

// idemLogNote says what the store's idempotency logs held when a run
// began and when it ended ("" when either could not be read).
func idemLogNote(run string, before, after float64) string {
	if before < 0 || after < 0 {
		return ""
	}
	s := fmt.Sprintf("The store's idempotency logs held %s values not yet merged when %s began and %s at its end "+
		"(`%s`; under %s while the merges keep up with the load)", commas(int64(before)), run,
		commas(int64(after)), idemLogMetric, commas(idemLogKeepsUp))
	if after > idemLogKeepsUp {
		return s + ": the merges were behind, and every commit paid for it."
	}
	return s + "."
}
