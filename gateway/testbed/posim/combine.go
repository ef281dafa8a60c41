package posim

import (
	"maps"

	"ecardgw/gateway/testbed/loadgen"
)

// Combine adds up runs of the same setup made one after another (for
// instance a gateway run split in two halves interleaved with baseline
// halves, so that a shared machine's drift falls on both alike): counts
// and durations add, latency quantiles come from the merged histograms,
// the timelines follow each other. Per-kind quantiles are the worse of
// the runs (they keep no histogram).
func Combine(rs ...*Result) *Result {
	if len(rs) == 0 {
		return nil
	}
	out := *rs[0]
	out.Kinds = map[string]KindResult{}
	out.Histogram = nil
	out.Timeline = nil
	out.Count, out.Answers, out.Approved, out.Declined, out.Errors, out.Late = 0, 0, 0, 0, 0, 0
	out.Duration, out.Setup, out.ProcessCPU = 0, 0, 0
	out.hist = new(loadgen.Histogram)
	for _, r := range rs {
		for _, s := range r.Timeline {
			s.At += out.Duration
			out.Timeline = append(out.Timeline, s)
		}
		out.Duration += r.Duration
		out.Setup += r.Setup
		out.ProcessCPU += r.ProcessCPU
		out.Count += r.Count
		out.Answers += r.Answers
		out.Approved += r.Approved
		out.Declined += r.Declined
		out.Errors += r.Errors
		out.Late += r.Late
		out.Terminals = max(out.Terminals, r.Terminals)
		out.ConnErrors = max(out.ConnErrors, r.ConnErrors)
		if out.FirstError == "" {
			out.FirstError = r.FirstError
		}
		if r.hist != nil {
			out.hist.Merge(r.hist)
		}
		for i, b := range r.Histogram {
			if i < len(out.Histogram) {
				out.Histogram[i].Count += b.Count
			} else {
				out.Histogram = append(out.Histogram, b)
			}
		}
		for k, kr := range r.Kinds {
			acc, ok := out.Kinds[k]
			if !ok {
				acc.RCs = map[string]int64{}
			}
			acc.Count += kr.Count
			acc.OK += kr.OK
			acc.Errors += kr.Errors
			acc.P50, acc.P99 = max(acc.P50, kr.P50), max(acc.P99, kr.P99)
			for rc, n := range kr.RCs {
				acc.RCs[rc] += n
			}
			out.Kinds[k] = acc
		}
	}
	out.Latency = latencyOf(out.hist)
	if out.Duration > 0 {
		out.Throughput = float64(out.Answers) / out.Duration
	}
	out.Mix = maps.Clone(out.Mix)
	return &out
}
