package benchsuite

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"ecardgw/store"
)

// Suite is one run of the benchmark suite.
type Suite struct {
	Root      string // repository root (go test runs there)
	Out       string // the document, e.g. docs/BENCHMARKS.md
	BenchDir  string // where the PNGs go, e.g. docs/bench
	GoBin     string
	Quick     bool
	Benchtime string   // for the Go benchmarks
	Count     int      // runs of each Go benchmark (medians are reported)
	Command   string   // as shown in the document
	Only      []string // run only the steps with these names (all when empty)
	Shared    string   // note on the machine being shared ("" if not)
	Log       io.Writer
	Keep      bool // keep the temporary directory (profiles, stores) and say where it is

	LoadTime       time.Duration // each closed-loop load run
	Conns1000      int
	LunchTerminals int
	LunchTime      time.Duration
	HangPayments   int // code payments that hang while a card terminal is measured
	IdleTerminals  int
	JournalRecords int

	DrainTime time.Duration // each forwarder drain, at most

	Tmp     string
	scaling scalePoints
	// purchaseRate is the in-process durable purchase rate of this run (0:
	// not measured), which the fingerprint figure is a share of.
	purchaseRate float64
	// procs is GOMAXPROCS in this process, kept for the run (0: not known).
	procs       int
	machineIdle map[string]float64 // profile path → idle share of the machine's CPU during it
	// The restart figure's store, reused by the forwarder figure.
	journalStore    string
	journalKey      []byte
	journalAccounts []store.Account
	builds          // ecardgw and posim, built for the separate-process figures
}

// Configure fills the sizes for a full or a quick run.
func (s *Suite) Configure() {
	if s.GoBin == "" {
		s.GoBin = "go"
	}
	if s.Log == nil {
		s.Log = os.Stderr
	}
	if s.Quick {
		s.LoadTime, s.Conns1000, s.LunchTerminals, s.LunchTime = 2*time.Second, 1000, 1000, 5*time.Second
		s.IdleTerminals, s.JournalRecords, s.DrainTime = 1000, 100_000, 5*time.Second
		s.HangPayments = 100
		if s.Count == 0 {
			s.Count = 1
		}
		if s.Benchtime == "" {
			s.Benchtime = "200ms"
		}
		return
	}
	s.LoadTime, s.Conns1000, s.LunchTerminals, s.LunchTime = 10*time.Second, 1000, 5000, 60*time.Second
	s.IdleTerminals, s.JournalRecords, s.DrainTime = 10_000, 1_000_000, 60*time.Second
	s.HangPayments = 400
	if s.Count == 0 {
		s.Count = 5
	}
	if s.Benchtime == "" {
		s.Benchtime = "1s"
	}
}

func (s *Suite) tmpDir(name string) string {
	d := filepath.Join(s.Tmp, name)
	_ = os.MkdirAll(d, 0o700)
	return d
}

// rel is path relative to the document's directory, for links.
func (s *Suite) rel(path string) string {
	r, err := filepath.Rel(filepath.Dir(s.Out), path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// missProfile adds what a CPU profile of an in-process load run shows to
// a figure that missed its goal: how the CPU divided between the
// simulated terminals (goroutines labelled posim=terminals) and the
// gateway, and the gateway's own top functions.
func (s *Suite) missProfile(ctx context.Context, f *Figure, prof string) {
	if f.Status != Missed {
		return
	}
	all, err := PprofTop(ctx, s.GoBin, s.Root, prof, "-nodecount=1")
	if err != nil {
		f.Notes = append(f.Notes, "The CPU profile could not be read: "+firstLine(err.Error()))
		return
	}
	tags, _ := runGo(ctx, s.GoBin, s.Root, "tool", "pprof", "-tags", prof)
	gw, err := PprofTop(ctx, s.GoBin, s.Root, prof, "-tagignore=posim=terminals")
	if err != nil {
		return
	}
	idle, known := s.machineIdle[prof]
	if !known {
		idle = -1
	}
	f.Notes = append(f.Notes, cpuSplit(all, string(tags), idle))
	f.Profile = gw
}

// cpuSplit reads the sample total from a pprof -top header and the
// terminals' share from pprof -tags ("posim: Total 70ms of 330ms (21.21%)").
// machineIdle is the idle share of the whole machine's CPU during the run
// (-1: unknown).
func cpuSplit(top, tags string, machineIdle float64) string {
	dur, total := profileTotals(top)
	if total <= 0 || dur <= 0 {
		return "The CPU profile has no samples."
	}
	share := -1.0
	for _, line := range strings.Split(tags, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "posim: Total") {
			continue
		}
		if _, p, ok := strings.Cut(line, "("); ok {
			p, _, _ = strings.Cut(p, "%")
			if v, err := strconv.ParseFloat(p, 64); err == nil {
				share = v
			}
		}
	}
	used := total / dur
	out := fmt.Sprintf("CPU profile of the run: %.2f s of CPU in %.1f s (%.2f of the %d cores)", total, dur, used, runtime.NumCPU())
	if share >= 0 {
		out += fmt.Sprintf("; the simulated terminals (same process) took %.0f%% of it, the gateway and the Go "+
			"runtime the rest (the gateway's own top functions are below)", share)
	}
	out += "."
	switch {
	case machineIdle < 0:
	case machineIdle >= 0.2:
		out += fmt.Sprintf(" The machine's CPU was %.0f%% idle meanwhile: the run is not CPU-bound, requests "+
			"spend their time waiting, not computing.", 100*machineIdle)
	case used < 0.8*float64(runtime.NumCPU()):
		out += fmt.Sprintf(" The machine's CPU was only %.0f%% idle meanwhile while this process used %.0f%% of "+
			"it: other work on the machine took the rest, so this figure may be starved of CPU.",
			100*machineIdle, 100*used/float64(runtime.NumCPU()))
	default:
		out += " The run is CPU-bound."
	}
	return out
}

// profileTotals parses "Duration: 2.01s, Total samples = 580ms (28.83%)".
func profileTotals(top string) (dur, samples float64) {
	for _, line := range strings.Split(top, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Duration: ")
		if !ok {
			continue
		}
		d, after, _ := strings.Cut(rest, ",")
		if v, err := time.ParseDuration(strings.TrimSpace(d)); err == nil {
			dur = v.Seconds()
		}
		if _, sv, ok := strings.Cut(after, "= "); ok {
			sv, _, _ = strings.Cut(sv, " ")
			if v, err := time.ParseDuration(sv); err == nil {
				samples = v.Seconds()
			}
		}
	}
	return dur, samples
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// Run measures everything and writes the document. A figure that fails
// is written as not measured with the reason; the run goes on.
func (s *Suite) Run(ctx context.Context) error {
	s.Configure()
	tmp, err := os.MkdirTemp("", "benchsuite-")
	if err != nil {
		return err
	}
	if s.Keep {
		fmt.Fprintf(s.Log, "benchsuite: keeping profiles and stores in %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	s.Tmp = tmp
	if err := os.MkdirAll(s.BenchDir, 0o755); err != nil {
		return err
	}
	rep := &Report{Command: s.Command, Quick: s.Quick, Machine: ReadMachine(s.GoBin), Shared: s.Shared}
	// The in-process figures share the process between the gateway and
	// the bare echo, and keep it at the runtime's default GOMAXPROCS, as
	// every run of the suite did before server.gomaxprocs: the suite puts
	// it in its own environment, which an in-process gateway takes over
	// its server.gomaxprocs (as it would an operator's), and leaves it out
	// of the environment of the gateways it starts as processes, which
	// run at their own default (childEnv).
	s.procs = runtime.GOMAXPROCS(0)
	if _, ok := os.LookupEnv("GOMAXPROCS"); !ok {
		_ = os.Setenv("GOMAXPROCS", strconv.Itoa(s.procs))
		setProcsEnv = true
		defer func() {
			_ = os.Unsetenv("GOMAXPROCS")
			setProcsEnv = false
		}()
	}
	rep.Machine.Procs = s.procs
	load0 := LoadAvg()
	if l, err := strconv.ParseFloat(load0, 64); err == nil && l > float64(runtime.NumCPU()) && s.Shared == "" {
		rep.Shared = fmt.Sprintf("The machine was shared with other work during the run (load average %s on %d "+
			"cores at the start), so absolute figures are lower and noisier than on an idle machine; the ratios "+
			"compare runs made minutes apart in the same conditions.", load0, runtime.NumCPU())
	}
	start := time.Now()
	step := func(name string, fn func() ([]Figure, error), fallback ...string) {
		if ctx.Err() != nil || (len(s.Only) > 0 && !slices.Contains(s.Only, name)) {
			return
		}
		fmt.Fprintf(s.Log, "benchsuite: %s ...\n", name)
		t0 := time.Now()
		figs, err := fn()
		if err != nil {
			fmt.Fprintf(s.Log, "benchsuite: %s failed: %v\n", name, err)
			for _, title := range fallback {
				rep.Figures = append(rep.Figures, Figure{Title: title, Result: "—", Status: NotMeasured,
					Notes: []string{"The run failed: " + firstLine(err.Error())}})
			}
			return
		}
		fmt.Fprintf(s.Log, "benchsuite: %s done in %s\n", name, time.Since(t0).Round(time.Second))
		rep.Figures = append(rep.Figures, figs...)
	}
	one := func(fn func(context.Context) (Figure, error)) func() ([]Figure, error) {
		return func() ([]Figure, error) {
			f, err := fn(ctx)
			return []Figure{f}, err
		}
	}
	step("codec", one(s.codecFigure), "Codec vs moov-io/iso8583")
	step("echo at 100", one(s.echoFigure), "Echo through the gateway vs bare echo at 100 terminals")
	step("purchases at 1000", func() ([]Figure, error) {
		a, b, c, err := s.purchaseFigure(ctx)
		return []Figure{a, b, c}, err
	}, "Durable card purchases vs bare echo", "Purchase latency at a quarter of the bare echo's rate", diskTitle)
	capTitle, latTitle := separateTitles(s.Conns1000)
	step(SeparateStep, func() ([]Figure, error) {
		a, b, err := s.separateFigure(ctx)
		return []Figure{a, b}, err
	}, capTitle, latTitle)
	step("campus code", one(s.campusFigure), "Campus-code verify vs raw signature verify")
	step("idle terminals", one(s.idleFigure), "Idle signed-in terminals: memory per terminal")
	step("restart", one(s.restartFigure), "Restart with a large journal to ready")
	step("crash recovery", one(s.recoveryFigure), recoveryTitle)
	step("forwarder", one(s.forwardFigure), "Forwarder drain")
	step("lunch peak", one(s.lunchFigure), "Lunch peak: the mix at 10× a large campus's peak")
	step("hung payments", one(s.hangFigure), hangTitle)
	step("journal", one(s.journalFigure), "Journal append: group commit vs one fsync per approval")
	step("fingerprint", one(s.fingerprintFigure), fingerprintTitle)
	if len(s.scaling.Baseline) > 0 {
		p := filepath.Join(s.BenchDir, "scaling.png")
		if err := s.scaling.plot(p); err == nil {
			for i := range rep.Figures {
				if rep.Figures[i].Title == inProcessTitle(s.Conns1000) {
					rep.Figures[i].Plots = append(rep.Figures[i].Plots, Plot{Path: s.rel(p), Alt: "closed loop: answers per second vs terminals"})
				}
			}
		}
	}
	rep.Duration = time.Since(start)
	load1 := LoadAvg()
	rep.Machine.Load = load0 + " → " + load1
	// Other work may start during the run: judge by the end too.
	if l, err := strconv.ParseFloat(load1, 64); err == nil && l > float64(runtime.NumCPU()) && rep.Shared == "" {
		rep.Shared = fmt.Sprintf("The machine was shared with other work during the run (load average %s on %d "+
			"cores at the end), so absolute figures are lower and noisier than on an idle machine; the figures' "+
			"notes say where the machine's CPU was busy with other work.", load1, runtime.NumCPU())
	}
	out, err := os.Create(s.Out)
	if err != nil {
		return err
	}
	if err := WriteMarkdown(out, rep); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func sortStrings(s []string) { sort.Strings(s) }

func sortFloats(s []float64) { sort.Float64s(s) }

// setProcsEnv: Run put GOMAXPROCS in this process's environment itself
// (no operator did), so childEnv leaves it out.
var setProcsEnv bool

// childEnv is the environment for a gateway or simulator the suite
// starts as a process: this process's, less the GOMAXPROCS Run set for the
// in-process figures (a child runs at its own default), plus extra.
func childEnv(extra ...string) []string {
	env := os.Environ()
	if setProcsEnv {
		env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	}
	return append(env, extra...)
}
