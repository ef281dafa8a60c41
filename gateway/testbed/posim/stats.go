package posim

import (
	"sync"
	"time"

	"ecardgw/gateway/testbed/loadgen"
)

// coarseBounds are the upper bounds of the summary histogram's bins; the
// quantiles come from loadgen.Histogram (1.6% precision), the bins are for
// a person reading the shape.
var coarseBounds = []time.Duration{
	100 * time.Microsecond, 200 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 1<<63 - 1,
}

type kindStats struct {
	count, ok, errors int64
	rcs               map[string]int64
	hist              loadgen.Histogram
}

// collector gathers every answer. One mutex is enough: at tens of
// thousands of answers a second it is not what limits a 2-core machine,
// and a single lock keeps the per-second windows exact.
type collector struct {
	mu       sync.Mutex
	start    time.Time
	kinds    [numKinds]kindStats
	total    loadgen.Histogram
	coarse   []int64
	window   loadgen.Histogram
	wCount   int64
	wErrors  int64
	samples  []Sample
	firstErr error
	late     int64 // paced sends that left after their due time
}

func newCollector() *collector {
	c := &collector{coarse: make([]int64, len(coarseBounds))}
	for i := range c.kinds {
		c.kinds[i].rcs = map[string]int64{}
	}
	return c
}

func (c *collector) begin(t time.Time) {
	c.mu.Lock()
	c.start = t
	c.mu.Unlock()
}

// record notes one request: rc is the response code ("" with err != nil
// when no proper answer came).
func (c *collector) record(k Kind, lat time.Duration, rc string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks := &c.kinds[k]
	ks.count++
	if err != nil {
		ks.errors++
		c.wErrors++
		if c.firstErr == nil {
			c.firstErr = err
		}
		return
	}
	if rc == "00" {
		ks.ok++
	}
	ks.rcs[rc]++
	ks.hist.Record(lat)
	c.total.Record(lat)
	c.window.Record(lat)
	c.wCount++
	for i, b := range coarseBounds {
		if lat <= b {
			c.coarse[i]++
			break
		}
	}
}

func (c *collector) lateSend() {
	c.mu.Lock()
	c.late++
	c.mu.Unlock()
}

// tick closes the current one-second window.
func (c *collector) tick(now time.Time) Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	var prev time.Duration
	if n := len(c.samples); n > 0 {
		prev = time.Duration(c.samples[n-1].At * float64(time.Second))
	}
	at := now.Sub(c.start)
	span := (at - prev).Seconds()
	s := Sample{At: at.Seconds(), Answers: c.wCount, Errors: c.wErrors,
		P50: ms(c.window.Quantile(0.5)), P99: ms(c.window.Quantile(0.99))}
	if span > 0 {
		s.Rate = float64(c.wCount) / span
	}
	c.samples = append(c.samples, s)
	c.window.Reset()
	c.wCount, c.wErrors = 0, 0
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
