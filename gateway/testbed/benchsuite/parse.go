package benchsuite

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Metric is one value/unit pair of a benchmark line ("182 ns/op").
type Metric struct {
	Value float64
	Unit  string
}

// Bench is one line of go test -bench output.
type Bench struct {
	Name    string // without the "Benchmark" prefix's -GOMAXPROCS suffix
	Procs   int
	N       int64
	Metrics []Metric
	Pkg     string // from the preceding "pkg:" line
}

// Get returns the value of unit.
func (b Bench) Get(unit string) (float64, bool) {
	for _, m := range b.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// Header is what go test prints before the benchmark lines.
type Header struct {
	GOOS, GOARCH, CPU string
}

// ParseBench reads go test -bench output: benchmark lines (name, then
// iterations, then value/unit pairs), and the goos/goarch/cpu/pkg lines.
// Other lines (PASS, ok, logs) are skipped.
func ParseBench(r io.Reader) ([]Bench, Header, error) {
	var (
		out []Bench
		h   Header
		pkg string
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "Benchmark") {
			switch k {
			case "goos":
				h.GOOS = v
			case "goarch":
				h.GOARCH = v
			case "cpu":
				h.CPU = v
			case "pkg":
				pkg = v
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		b, ok := parseLine(line)
		if !ok {
			continue // "BenchmarkX" alone: a benchmark that logged before its result
		}
		b.Pkg = pkg
		out = append(out, b)
	}
	if err := sc.Err(); err != nil {
		return out, h, err
	}
	if len(out) == 0 {
		return nil, h, fmt.Errorf("%w: no benchmark lines", ErrParse)
	}
	return out, h, nil
}

func parseLine(line string) (Bench, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return Bench{}, false
	}
	b := Bench{Name: f[0], Procs: 1}
	if i := strings.LastIndexByte(f[0], '-'); i > 0 {
		if p, err := strconv.Atoi(f[0][i+1:]); err == nil {
			b.Name, b.Procs = f[0][:i], p
		}
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return Bench{}, false
	}
	b.N = n
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Bench{}, false
		}
		b.Metrics = append(b.Metrics, Metric{Value: v, Unit: f[i+1]})
	}
	return b, true
}

// Median is the median of unit over every run of the named benchmark
// (go test -count N prints N lines).
func Median(benches []Bench, name, unit string) (float64, int, error) {
	var vals []float64
	for _, b := range benches {
		if b.Name != name {
			continue
		}
		if v, ok := b.Get(unit); ok {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return 0, 0, fmt.Errorf("%w: %s %s", ErrMissing, name, unit)
	}
	slices.Sort(vals)
	n := len(vals)
	if n%2 == 1 {
		return vals[n/2], n, nil
	}
	return (vals[n/2-1] + vals[n/2]) / 2, n, nil
}

// Values lists unit over every run of the named benchmark, in run order.
func Values(benches []Bench, name, unit string) []float64 {
	var vals []float64
	for _, b := range benches {
		if v, ok := b.Get(unit); ok && b.Name == name {
			vals = append(vals, v)
		}
	}
	return vals
}
