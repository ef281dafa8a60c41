package posim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// NewCommand is the posim command line: "posim run" and "posim baseline".
func NewCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "posim",
		Short:         "Simulate POS terminals against an ecardgw gateway on this machine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newBaselineCmd(), newEnvCmd())
	return root
}

// runFlags are posim run's flags as given.
type runFlags struct {
	config, accounts, issuerKey, addr string
	terminals, mix                    string
	closedLoop                        bool
	think, duration                   time.Duration
	count, amount                     int64
	jsonPath, pngPath                 string
	goalP99                           time.Duration
	baseline                          bool
	seed                              uint64
	cpuProfile                        string
}

// RunPlan is a validated posim run: one Options per terminal count.
type RunPlan struct {
	Config, Accounts, IssuerKey, Addr string
	Runs                              []Options
	JSON, PNG                         string
	Baseline                          bool
	// GoalP99 is drawn as the goal line of the latency plot (0: none).
	GoalP99 time.Duration
	// CPUProfile, if set, receives a CPU profile of this process over
	// the whole invocation (go tool pprof FILE).
	CPUProfile string
}

func (f *runFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "./var/ecardgw.yaml", "the gateway's `FILE` (terminals, key file, POS address)")
	fl.StringVar(&f.accounts, "accounts", "", "accounts CSV `FILE` whose active cards the terminals use")
	fl.StringVar(&f.issuerKey, "issuer-key", "", "campus-code issuer key `FILE` (for code purchases)")
	fl.StringVar(&f.addr, "addr", "", "POS address `HOST:PORT` (default: listen.pos of the configuration; loopback only)")
	fl.StringVar(&f.terminals, "terminals", "100", "terminal `COUNTS`, comma-separated: one run per count (at most 20000)")
	fl.StringVar(&f.mix, "mix", LunchPeak.String(), "transaction `MIX` as kind=weight (card, code, wechat, alipay, wallet, inquiry, echo)")
	fl.BoolVar(&f.closedLoop, "closed-loop", false, "send the next request as soon as the answer comes (the default without --think)")
	fl.DurationVar(&f.think, "think", 0, "per-terminal think `TIME`: each terminal sends once per TIME (offered rate = terminals/TIME)")
	fl.DurationVar(&f.duration, "duration", 0, "length of each run (at most 10m)")
	fl.Int64Var(&f.count, "count", 0, "total requests of each run")
	fl.Int64Var(&f.amount, "amount", 1, "purchase amount in fen")
	fl.StringVar(&f.jsonPath, "json", "", "write the results as JSON to `FILE` (- for standard output)")
	fl.StringVar(&f.pngPath, "png", "", "write latency over time to `FILE`.png (and FILE-scaling.png with several counts); checked before the run")
	fl.DurationVar(&f.goalP99, "goal-p99", 50*time.Millisecond, "p99 latency goal drawn on the --png latency plot (docs/BENCHMARKS.md; 0: none)")
	fl.BoolVar(&f.baseline, "baseline", false, "also run the bare gnet echo baseline in-process and print the ratio")
	fl.Uint64Var(&f.seed, "seed", 0, "random seed for the mix (0: from the clock)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of posim itself to `FILE` (go tool pprof FILE)")
}

// ParseTerminals reads "100,1000,5000".
func ParseTerminals(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 || n > MaxTerminals {
			return nil, fmt.Errorf("%w: terminal count %q out of 1..%d", ErrLimit, part, MaxTerminals)
		}
		out = append(out, n)
	}
	return out, nil
}

func (f *runFlags) plan() (*RunPlan, error) {
	counts, err := ParseTerminals(f.terminals)
	if err != nil {
		return nil, err
	}
	mix, err := ParseMix(f.mix)
	if err != nil {
		return nil, err
	}
	switch {
	case f.closedLoop && f.think > 0:
		return nil, fmt.Errorf("%w: --closed-loop and --think exclude each other", ErrLimit)
	case f.think < 0:
		return nil, fmt.Errorf("%w: negative --think", ErrLimit)
	case f.duration == 0 && f.count == 0:
		return nil, fmt.Errorf("%w: give --duration or --count", ErrLimit)
	case f.amount < 1:
		return nil, fmt.Errorf("%w: --amount must be at least 1 fen", ErrLimit)
	}
	if f.addr != "" {
		if err := CheckLoopback(f.addr); err != nil {
			return nil, err
		}
	}
	png, err := checkPNGPath(f.pngPath)
	if err != nil {
		return nil, err
	}
	p := &RunPlan{Config: f.config, Accounts: f.accounts, IssuerKey: f.issuerKey, Addr: f.addr,
		JSON: f.jsonPath, PNG: png, Baseline: f.baseline, GoalP99: f.goalP99, CPUProfile: f.cpuProfile}
	// The whole invocation is bounded, not only each run: every terminal
	// count is a run, and --baseline adds one of the same length.
	runs := len(counts)
	if f.baseline {
		runs *= 2
	}
	share := MaxDuration / time.Duration(runs)
	if f.duration > share {
		return nil, fmt.Errorf("%w: %d runs of %v exceed %v in all", ErrLimit, runs, f.duration, MaxDuration)
	}
	dur := f.duration
	if dur == 0 {
		dur = share // a count-only run stops at its share of the bound
	}
	for _, n := range counts {
		o := Options{Terminals: n, Mix: mix, Think: f.think, Duration: dur, Count: f.count,
			Amount: f.amount, Seed: f.seed}
		if _, err := o.withDefaults(); err != nil {
			return nil, err
		}
		p.Runs = append(p.Runs, o)
	}
	return p, nil
}

// ParseRunArgs parses posim run's arguments into a plan without running it.
func ParseRunArgs(args []string) (*RunPlan, error) {
	var f runFlags
	cmd := &cobra.Command{Use: "run"}
	f.register(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		return nil, err
	}
	return f.plan()
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Sign terminals in and drive a transaction mix; print a summary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.plan()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if p.CPUProfile != "" {
				stopProfile, err := startCPUProfile(p.CPUProfile)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			_, err = Execute(ctx, p, cmd.OutOrStdout(), cmd.ErrOrStderr(), isTTY(cmd.ErrOrStderr()))
			return err
		},
	}
	f.register(cmd)
	return cmd
}

// Execute runs a plan: each terminal count in turn (with its baseline if
// asked), then the summary, JSON and plots.
func Execute(ctx context.Context, p *RunPlan, out, progress io.Writer, tty bool) ([]*Result, error) {
	fleet, err := LoadFleet(p.Config, p.Accounts, p.IssuerKey)
	if err != nil {
		return nil, err
	}
	if p.Addr != "" {
		fleet.Addr = p.Addr
	}
	// With the JSON on standard output, the summaries go with the progress
	// lines, so that a script can read standard output as one document.
	summary := out
	if p.JSON == "-" {
		summary = progress
	}
	var results []*Result
	for _, o := range p.Runs {
		o.Progress, o.TTY = progress, tty
		fmt.Fprintf(progress, "posim: %d terminals against %s\n", o.Terminals, fleet.Addr)
		r, err := Run(ctx, fleet, o)
		if err != nil {
			return results, err
		}
		if p.Baseline {
			fmt.Fprintf(progress, "posim: baseline echo, %d connections\n", o.Terminals)
			d := time.Duration(r.Duration * float64(time.Second))
			b, err := RunBaseline(ctx, r.Terminals, d, 0, progress, tty)
			if err != nil {
				return results, fmt.Errorf("baseline: %w", err)
			}
			r.WithBaseline(b)
		}
		r.Summary(summary)
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	return results, writeOutputs(p, results, out)
}

func writeOutputs(p *RunPlan, results []*Result, out io.Writer) error {
	if len(results) == 0 {
		return nil
	}
	var errs []error
	if p.JSON != "" {
		if len(results) == 1 {
			errs = append(errs, results[0].WriteJSON(p.JSON, out))
		} else {
			b, err := json.MarshalIndent(results, "", "  ")
			if err == nil {
				b = append(b, '\n')
				if p.JSON == "-" {
					_, err = out.Write(b)
				} else {
					err = os.WriteFile(p.JSON, b, 0o644)
				}
			}
			errs = append(errs, err)
		}
	}
	if p.PNG != "" {
		last := results[len(results)-1]
		title := fmt.Sprintf("posim: %d terminals, %s", last.Terminals, last.modeText())
		errs = append(errs, PlotTimeline(last, title, p.PNG, p.latencyGoals()...))
		if len(results) > 1 {
			gw := Series{Name: "gateway"}
			bl := Series{Name: "bare echo baseline"}
			for _, r := range results {
				gw.Points = append(gw.Points, ScalePoint{r.Terminals, r.Throughput})
				if r.Baseline != nil {
					bl.Points = append(bl.Points, ScalePoint{r.Baseline.Terminals, r.Baseline.Throughput})
				}
			}
			errs = append(errs, PlotScaling([]Series{gw, bl}, "throughput vs terminals", scalingPath(p.PNG)))
		}
	}
	return errors.Join(errs...)
}

func (p *RunPlan) latencyGoals() []Goal {
	if p.GoalP99 <= 0 {
		return nil
	}
	ms := float64(p.GoalP99) / float64(time.Millisecond)
	return []Goal{{Label: "goal: p99 ≤ " + strconv.FormatFloat(ms, 'f', -1, 64) + " ms", Value: ms}}
}

// checkPNGPath checks --png before the run, so that a run of minutes does
// not end in a plot that cannot be written: a name without an extension
// gets .png, another extension is refused, and the directory must take a
// new file.
func checkPNGPath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	switch ext := filepath.Ext(path); {
	case ext == "":
		path += ".png"
	case !strings.EqualFold(ext, ".png"):
		return "", fmt.Errorf("%w: --png %s: the plots are PNG images: name the file FILE.png", ErrOutput, path)
	}
	dir := filepath.Dir(path)
	probe, err := os.CreateTemp(dir, ".posim-png-*")
	if err != nil {
		return "", fmt.Errorf("%w: --png %s: %v", ErrOutput, path, err)
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return "", fmt.Errorf("%w: --png %s is a directory", ErrOutput, path)
	}
	return path, nil
}

// startCPUProfile starts the CPU profile of --cpuprofile; the returned
// function stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	fh, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%w: --cpuprofile: %v", ErrOutput, err)
	}
	if err := pprof.StartCPUProfile(fh); err != nil {
		_ = fh.Close()
		return nil, fmt.Errorf("%w: --cpuprofile: %v", ErrOutput, err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = fh.Close()
	}, nil
}

func scalingPath(png string) string {
	base := strings.TrimSuffix(png, ".png")
	return base + "-scaling.png"
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
