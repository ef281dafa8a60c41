package posim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"ecardgw/gateway/testbed/loadgen"
)

// Sample is one second of the run.
type Sample struct {
	At      float64 `json:"t_s"` // seconds since the start of the timed phase
	Answers int64   `json:"answers"`
	Errors  int64   `json:"errors"`
	Rate    float64 `json:"rate"` // answers per second in this window
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// KindResult is one transaction kind's outcome.
type KindResult struct {
	Count  int64            `json:"count"`
	OK     int64            `json:"approved"`
	Errors int64            `json:"errors"` // no proper answer
	RCs    map[string]int64 `json:"response_codes"`
	P50    float64          `json:"p50_ms"`
	P99    float64          `json:"p99_ms"`
}

// Bin is one bin of the summary histogram.
type Bin struct {
	UpToMs float64 `json:"le_ms"` // upper bound; 0 for the last, open bin
	Count  int64   `json:"count"`
}

// Result is what one run produced; it is also the JSON document.
type Result struct {
	Addr       string         `json:"addr"`
	Started    time.Time      `json:"started"`
	Terminals  int            `json:"terminals"`   // signed in and driven
	ConnErrors int            `json:"conn_errors"` // did not get through dial and sign-in
	Setup      float64        `json:"setup_s"`
	Mix        map[string]int `json:"mix"`
	Mode       string         `json:"mode"` // "closed-loop" or "think"
	Think      float64        `json:"think_s,omitempty"`
	Offered    float64        `json:"offered_rate,omitempty"` // req/s the pacing offers
	Duration   float64        `json:"duration_s"`
	Count      int64          `json:"count"`    // requests with an answer or an error
	Answers    int64          `json:"answers"`  // proper answers, any response code
	Approved   int64          `json:"approved"` // answers with 00
	Declined   int64          `json:"declined"` // answers with another code
	Errors     int64          `json:"errors"`   // no proper answer (I/O, timeout, MAC, wrong answer)
	Late       int64          `json:"late_sends"`
	Throughput float64        `json:"throughput"` // answers per second
	// ProcessCPU is the CPU time (user and system) this process used
	// during the timed phase: the simulated terminals' own cost when the
	// gateway runs in another process, both together when in-process.
	ProcessCPU float64               `json:"process_cpu_s"`
	Latency    Latency               `json:"latency"`
	Kinds      map[string]KindResult `json:"kinds"`
	Histogram  []Bin                 `json:"histogram"`
	Timeline   []Sample              `json:"timeline"`
	FirstError string                `json:"first_error,omitempty"`
	Baseline   *Result               `json:"baseline,omitempty"`
	Ratio      float64               `json:"ratio_to_baseline,omitempty"`

	hist *loadgen.Histogram // all latencies, for Combine
}

func latencyOf(h *loadgen.Histogram) Latency {
	return Latency{P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()), Mean: ms(h.Mean())}
}

func (c *collector) result(elapsed time.Duration) *Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &Result{Duration: elapsed.Seconds(), Kinds: map[string]KindResult{}, Late: c.late}
	for i := range c.kinds {
		ks := &c.kinds[i]
		if ks.count == 0 {
			continue
		}
		kr := KindResult{Count: ks.count, OK: ks.ok, Errors: ks.errors, RCs: map[string]int64{},
			P50: ms(ks.hist.Quantile(0.5)), P99: ms(ks.hist.Quantile(0.99))}
		for rc, n := range ks.rcs {
			kr.RCs[rc] = n
		}
		r.Kinds[Kind(i).String()] = kr
		r.Count += ks.count
		r.Approved += ks.ok
		r.Errors += ks.errors
	}
	r.Answers = r.Count - r.Errors
	r.Declined = r.Answers - r.Approved
	r.hist = new(loadgen.Histogram)
	r.hist.Merge(&c.total)
	r.Latency = latencyOf(r.hist)
	for i, b := range coarseBounds {
		bin := Bin{Count: c.coarse[i]}
		if i < len(coarseBounds)-1 {
			bin.UpToMs = ms(b)
		}
		r.Histogram = append(r.Histogram, bin)
	}
	r.Timeline = slices.Clone(c.samples)
	if c.firstErr != nil {
		r.FirstError = c.firstErr.Error()
	}
	if elapsed > 0 {
		r.Throughput = float64(r.Answers) / elapsed.Seconds()
	}
	return r
}

// WriteJSON writes r as indented JSON to path ("-" is standard output).
func (r *Result) WriteJSON(path string, stdout io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Summary writes the end-of-run report: totals, latency quantiles, the
// histogram as bars, and each kind's response codes.
func (r *Result) Summary(w io.Writer) {
	fmt.Fprintf(w, "posim %s: %d terminals (%d failed to sign in), %s, mix %s\n",
		r.Addr, r.Terminals, r.ConnErrors, r.modeText(), mixText(r.Mix))
	fmt.Fprintf(w, "  duration %.1fs  requests %d  approved %d  declined %d  errors %d  late sends %d\n",
		r.Duration, r.Count, r.Approved, r.Declined, r.Errors, r.Late)
	fmt.Fprintf(w, "  throughput %.0f answers/s", r.Throughput)
	if r.Offered > 0 {
		fmt.Fprintf(w, " (offered %.0f/s)", r.Offered)
	}
	if r.ProcessCPU > 0 {
		fmt.Fprintf(w, "  process CPU %.1fs", r.ProcessCPU)
	}
	fmt.Fprintln(w)
	l := r.Latency
	fmt.Fprintf(w, "  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f\n",
		l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	var peak int64
	for _, b := range r.Histogram {
		peak = max(peak, b.Count)
	}
	lo := 0.0
	for _, b := range r.Histogram {
		if b.Count == 0 {
			if b.UpToMs > 0 {
				lo = b.UpToMs
			}
			continue
		}
		label := fmt.Sprintf("%g–%g ms", lo, b.UpToMs)
		if b.UpToMs == 0 {
			label = fmt.Sprintf("> %g ms", lo)
		}
		bar := strings.Repeat("#", int(1+39*b.Count/max(peak, 1)))
		fmt.Fprintf(w, "  %14s %9d %s\n", label, b.Count, bar)
		lo = b.UpToMs
	}
	for _, k := range Kinds() {
		kr, ok := r.Kinds[k.String()]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "  %-8s %8d  approved %8d  errors %5d  p50 %.2f ms  p99 %.2f ms  codes %s\n",
			k, kr.Count, kr.OK, kr.Errors, kr.P50, kr.P99, rcText(kr.RCs))
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "  first error: %s\n", r.FirstError)
	}
	if b := r.Baseline; b != nil {
		fmt.Fprintf(w, "  baseline (bare gnet echo, %d connections, closed loop): %.0f/s p50 %.2f ms p99 %.2f ms; gateway/baseline %.3f\n",
			b.Terminals, b.Throughput, b.Latency.P50, b.Latency.P99, r.Ratio)
	}
}

func (r *Result) modeText() string {
	if r.Mode == "think" {
		return fmt.Sprintf("think %.3gs (offered %.0f/s)", r.Think, r.Offered)
	}
	return "closed loop"
}

func mixText(m map[string]int) string {
	var parts []string
	for _, k := range Kinds() {
		if w := m[k.String()]; w > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, w))
		}
	}
	return strings.Join(parts, ",")
}

func rcText(rcs map[string]int64) string {
	keys := make([]string, 0, len(rcs))
	for k := range rcs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", k, rcs[k])
	}
	return b.String()
}
