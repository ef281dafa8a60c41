package benchsuite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"ecardgw/gateway/daemon"
	"ecardgw/gateway/testbed/posim"
)

// gw is a gateway started in this process from a generated environment.
type gw struct {
	env   *posim.Env
	d     *daemon.Daemon
	fleet *posim.Fleet
}

func startGW(spec posim.EnvSpec) (*gw, error) {
	env, err := posim.WriteEnv(spec)
	if err != nil {
		return nil, err
	}
	d, err := env.Start()
	if err != nil {
		return nil, err
	}
	f, err := env.Fleet(d.POSAddr().String())
	if err != nil {
		_ = d.Stop()
		return nil, err
	}
	return &gw{env: env, d: d, fleet: f}, nil
}

func (g *gw) stop() { _ = g.d.Stop() }

// profiled runs fn under a CPU profile written to path (the whole
// process: gateway and simulated terminals share it), and notes how idle
// the whole machine was meanwhile, to tell a figure that waits from one
// starved by other work on a shared machine.
func (s *Suite) profiled(path string, fn func() error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	idle0, total0 := cpuTimes()
	err = fn()
	idle1, total1 := cpuTimes()
	if total1 > total0 {
		if s.machineIdle == nil {
			s.machineIdle = map[string]float64{}
		}
		s.machineIdle[path] = float64(idle1-idle0) / float64(total1-total0)
	}
	return err
}

// cpuTimes is the machine's idle (idle + iowait) and total CPU time in
// clock ticks, from the first line of /proc/stat.
func cpuTimes() (idle, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0
	}
	// user nice system idle iowait irq softirq steal; guest time is
	// already in user.
	for i, v := range f[1:min(len(f), 9)] {
		n, _ := strconv.ParseUint(v, 10, 64)
		total += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	return idle, total
}

// loadRow is one run as a table row.
func loadRow(name string, r *posim.Result) []string {
	return []string{name, fmt.Sprint(r.Terminals), r.Mode, num(r.Throughput),
		fmt.Sprintf("%.2f", r.Latency.P50), fmt.Sprintf("%.2f", r.Latency.P99),
		fmt.Sprint(r.Errors), fmt.Sprint(r.Declined)}
}

func loadTable(rows ...[]string) Table {
	return Table{Header: []string{"run", "terminals", "mode", "answers/s", "p50 ms", "p99 ms", "errors", "declined"},
		Right: []bool{false, true, false, true, true, true, true, true}, Rows: rows}
}

func checkRun(name string, r *posim.Result) error {
	if r.Terminals == 0 {
		return fmt.Errorf("%s: no terminal connected: %s", name, r.FirstError)
	}
	return nil
}

// scalePoints collects throughput points for the throughput-vs-terminals plot.
type scalePoints struct {
	Baseline, Echo, Purchases []posim.ScalePoint
}

func (s *scalePoints) plot(path string) error {
	return posim.PlotScaling([]posim.Series{
		{Name: "bare gnet echo (baseline)", Points: s.Baseline},
		{Name: "gateway echo test (0820)", Points: s.Echo},
		{Name: "gateway durable card purchases", Points: s.Purchases},
	}, "closed loop: answers per second vs terminals", path)
}

func point(r *posim.Result) posim.ScalePoint {
	return posim.ScalePoint{Terminals: r.Terminals, Throughput: r.Throughput}
}

func baselineRun(ctx context.Context, conns int, d time.Duration) (*posim.Result, error) {
	r, err := posim.RunBaseline(ctx, conns, d, 0, nil, false)
	if err == nil {
		err = checkRun("baseline", r)
	}
	return r, err
}

// interleaved runs the bare echo and the gateway alternately in two
// halves each — baseline, gateway, baseline, gateway — and combines the
// halves, so that the drift of a shared machine falls on both alike. The
// first gateway half runs under the CPU profile prof.
func (s *Suite) interleaved(ctx context.Context, conns int, gw func(time.Duration) (*posim.Result, error),
	prof string) (base, gwr, profiledHalf *posim.Result, err error) {
	half := s.LoadTime / 2
	var bs, gs []*posim.Result
	for i := range 2 {
		b, err := baselineRun(ctx, conns, half)
		if err != nil {
			return nil, nil, nil, err
		}
		bs = append(bs, b)
		var r *posim.Result
		run := func() (err error) {
			r, err = gw(half)
			return err
		}
		if i == 0 {
			inner := run
			run = func() error { return s.profiled(prof, inner) }
		}
		if err := run(); err != nil {
			return nil, nil, nil, err
		}
		if err := checkRun("gateway", r); err != nil {
			return nil, nil, nil, err
		}
		gs = append(gs, r)
	}
	return posim.Combine(bs...), posim.Combine(gs...), gs[0], nil
}

// echoFigure: the gateway's echo test against the bare echo at 100
// terminals, both closed loop.
func (s *Suite) echoFigure(ctx context.Context) (Figure, error) {
	const conns = 100
	f := Figure{Title: "Echo through the gateway vs bare echo at 100 terminals", Goal: "≥ 0.60",
		What: "100 connections, closed loop (each sends its next request when the answer to the previous one " +
			"arrives), " + s.LoadTime.String() + " each, in two halves interleaved (baseline, gateway, baseline, " +
			"gateway) so that a busy machine's drift falls on both alike: the bare gnet length-prefixed echo server " +
			"(`gateway/testbed/baseline`, multicore) echoing a terminal's 0820 echo-test frame byte for byte — " +
			"the event-loop limit of this machine — and a standalone gateway answering the same 0820/301 with " +
			"0830 (framing, decode, engine, encode; no store write). Both in this process with the simulated " +
			"terminals (`gateway/testbed/posim`), so the terminals' own CPU is in both figures alike.",
		Commands: append([]string{"# the suite runs it in-process; by hand, with the gateway in its own process:"},
			simCommands(100, 0, fmt.Sprintf("--terminals 100 --mix echo=1 --closed-loop --duration %s --baseline", s.LoadTime))...)}
	g, err := startGW(posim.EnvSpec{Dir: s.tmpDir("echo"), POS: conns, Accounts: 1})
	if err != nil {
		return f, err
	}
	defer g.stop()
	prof := filepath.Join(s.Tmp, "echo.pprof")
	base, r, _, err := s.interleaved(ctx, conns, func(d time.Duration) (*posim.Result, error) {
		return posim.Run(ctx, g.fleet, posim.Options{Terminals: conns, Mix: posim.Mix{posim.KindEcho: 1}, Duration: d})
	}, prof)
	if err != nil {
		return f, err
	}
	s.scaling.Baseline = append(s.scaling.Baseline, point(base))
	s.scaling.Echo = append(s.scaling.Echo, point(r))
	ratioV := r.Throughput / base.Throughput
	f.Tables = []Table{loadTable(loadRow("bare echo", base), loadRow("gateway echo", r))}
	f.Result = fmt.Sprintf("%s answers/s vs %s: **%.2f** of bare echo", num(r.Throughput), num(base.Throughput), ratioV)
	f.Status, f.Margin = margin(ratioV, 0.60, true)
	s.missProfile(ctx, &f, prof)
	return f, nil
}

// purchaseFigure: durable card purchases at 1,000 terminals closed loop
// (capacity, as a ratio to the bare echo), then paced at a quarter of the
// bare echo's rate (latency).
func (s *Suite) purchaseFigure(ctx context.Context) (f, lat, disk Figure, err error) {
	conns := s.Conns1000
	f = Figure{Title: inProcessTitle(conns), Goal: purchaseGoalText(),
		What: fmt.Sprintf("%d connections, each a signed-in canteen POS with its own card, sending 0200 card "+
			"purchases (MACed; balance check, debit, journal record, idempotency record, all fsynced by the "+
			"group commit before the answer leaves) closed loop, against the bare echo at the same number of "+
			"connections in the same run: %s each, in two halves interleaved (baseline, gateway, baseline, "+
			"gateway).", conns, s.LoadTime),
		Commands: append([]string{"# the suite runs it in-process; by hand, with the gateway in its own process (as the",
			"# separate-process figure below does, step \"" + SeparateStep + "\"):"},
			simCommands(conns, 0, fmt.Sprintf("--terminals %d --mix card=1 --closed-loop --duration %s --baseline", conns, s.LoadTime))...)}
	lat = Figure{Title: fmt.Sprintf("Purchase latency at a quarter of the bare echo's rate, %s terminals", commas(int64(conns))), Goal: p99GoalText(),
		What: pacedWhat(conns)}
	g, err := startGW(posim.EnvSpec{Dir: s.tmpDir("purchase"), POS: conns, Accounts: conns})
	if err != nil {
		return f, lat, disk, err
	}
	defer g.stop()
	prof := filepath.Join(s.Tmp, "purchase.pprof")
	var c0 commits
	base, r, first, err := s.interleaved(ctx, conns, func(d time.Duration) (*posim.Result, error) {
		return posim.Run(ctx, g.fleet, posim.Options{Terminals: conns, Mix: posim.Mix{posim.KindCard: 1}, Duration: d,
			OnStart: func() {
				if !c0.ok {
					c0 = scrapeCommits(g.d.Admin.Addr())
				}
			}})
	}, prof)
	if err != nil {
		return f, lat, disk, err
	}
	s.scaling.Baseline = append(s.scaling.Baseline, point(base))
	c1 := scrapeCommits(g.d.Admin.Addr())
	if err := errors.Join(c0.err, c1.err); err != nil {
		return f, lat, disk, err
	}
	s.scaling.Purchases = append(s.scaling.Purchases, point(r))
	s.purchaseRate = r.Throughput
	closedLoopResult(&f, base, r)
	if note := procsNote(s.procs); note != "" {
		f.Notes = append(f.Notes, note)
	}
	if note := c1.since(c0, r.Duration); note != "" {
		f.Notes = append(f.Notes, note)
	}
	s.missProfile(ctx, &f, prof)
	if f.Status == Missed {
		cl := commitLoadOf(c0, c1, r.Duration)
		note, err := s.committerNote(ctx, prof, first.Answers, first.Duration, cl, purchaseGoal*base.Throughput)
		if err != nil {
			return f, lat, disk, err
		}
		if note != "" {
			f.Notes = append(f.Notes, note)
		}
	}

	// The same gateway at a quarter of the bare echo's rate.
	offered := pacedShare * base.Throughput
	think := posim.ThinkFor(conns, offered)
	var p *posim.Result
	prof2 := filepath.Join(s.Tmp, "paced.pprof")
	var p0 commits
	idem0 := -1.0
	err = s.profiled(prof2, func() (err error) {
		p, err = posim.Run(ctx, g.fleet, posim.Options{Terminals: conns, Mix: posim.Mix{posim.KindCard: 1},
			Think: think, Duration: s.LoadTime, OnStart: func() {
				p0 = scrapeCommits(g.d.Admin.Addr())
				idem0 = scrapeIdemLog(g.d.Admin.Addr())
			}})
		return err
	})
	p1 := scrapeCommits(g.d.Admin.Addr())
	idem1 := scrapeIdemLog(g.d.Admin.Addr())
	if err == nil {
		err = checkRun("paced purchases", p)
	}
	if err == nil {
		err = errors.Join(p0.err, p1.err)
	}
	if err != nil {
		return f, lat, disk, err
	}
	lat.Commands = simCommands(conns, 0, fmt.Sprintf("--terminals %d --mix card=1 --think %s --duration %s", conns, think, s.LoadTime))
	pacedResult(&lat, p, offered, r.Throughput, think)
	if note := p1.since(p0, p.Duration); note != "" && lat.Status == Missed {
		lat.Notes = append(lat.Notes, note)
	}
	if note := p1.slow(p0, "the paced run", 25, 100, "every request waiting on such a commit waits that "+
		"long at least. The next figure measures how often the disk alone takes that long."); note != "" {
		lat.Notes = append(lat.Notes, note)
	}
	if note := idemLogNote("the paced run", idem0, idem1); note != "" {
		lat.Notes = append(lat.Notes, note)
	}
	s.missProfile(ctx, &lat, prof2)

	// The disk alone, at the commit rate the paced run made.
	disk = Figure{Title: diskTitle, Result: "—", Status: NotMeasured}
	if rate := p1.rate(p0, p.Duration); rate > 0 {
		size := int64(64 << 20) // a file as large as the store, at least 64 MB
		if fi, err := os.Stat(g.env.Store); err == nil {
			size = max(size, fi.Size())
		}
		dr, err := diskProbe(ctx, s.tmpDir("disk"), size, probePages, rate, s.LoadTime)
		if err != nil {
			disk.Notes = []string{"The probe failed: " + firstLine(err.Error())}
		} else {
			disk = diskFigure(dr, fmt.Sprintf("%.0f a second", rate))
		}
	} else {
		disk.Notes = []string{"The gateway's commit counters could not be read, so the probe had no rate to run at."}
	}

	// Scaling points at 100 terminals, for the plot.
	if conns != 100 {
		if r100, err := posim.Run(ctx, g.fleet, posim.Options{Terminals: 100, Mix: posim.Mix{posim.KindCard: 1}, Duration: s.LoadTime}); err == nil && r100.Terminals > 0 {
			s.scaling.Purchases = append([]posim.ScalePoint{point(r100)}, s.scaling.Purchases...)
		}
		if e, err := posim.Run(ctx, g.fleet, posim.Options{Terminals: conns, Mix: posim.Mix{posim.KindEcho: 1}, Duration: s.LoadTime}); err == nil && e.Terminals > 0 {
			s.scaling.Echo = append(s.scaling.Echo, point(e))
		}
	}
	return f, lat, disk, nil
}

func inProcessTitle(conns int) string {
	return fmt.Sprintf("Durable card purchases vs bare echo at %s terminals", commas(int64(conns)))
}

// procsNote says at what GOMAXPROCS an in-process ratio was measured
// ("" when not known).
func procsNote(procs int) string {
	if procs <= 0 {
		return ""
	}
	return fmt.Sprintf("In one process at GOMAXPROCS %d, the runtime's default, for the gateway and the bare echo "+
		"alike. The gateway on its own sets one processor more per event loop (`server.gomaxprocs` 0), since "+
		"an event loop keeps its processor while it waits in epoll_wait; in a process shared with the bare echo "+
		"that would speed the echo's clients more than the gateway (at GOMAXPROCS 4 the in-process bare echo "+
		"answered ~190,000 round trips/s), so the gateway's own default is in the separate-process figures below.", procs)
}

// pacedWhat explains the latency figures' offered load.
func pacedWhat(conns int) string {
	return fmt.Sprintf("\"%s\" only makes sense at an offered load below saturation: with %d "+
		"closed-loop terminals, Little's law (terminals = rate × latency) makes even the bare echo's p99 far "+
		"above %g ms on 2 cores. So the capacity is measured closed loop (the figure above, as a ratio) and "+
		"the p99 here at a paced offered load equal to %.2f × the bare echo's closed-loop rate measured in "+
		"the same run: each terminal sends once per think time, phases spread evenly, latency measured from "+
		"the scheduled send time (a late send counts its wait).", p99GoalText(), conns, p99GoalMs, pacedShare)
}

// closedLoopResult fills a durable purchase capacity figure from the bare
// echo's and the gateway's closed-loop runs, judged against purchaseGoal.
func closedLoopResult(f *Figure, base, r *posim.Result) {
	ratioV := r.Throughput / base.Throughput
	f.Tables = []Table{loadTable(loadRow("bare echo", base), loadRow("gateway purchases", r))}
	f.Result = fmt.Sprintf("%s purchases/s vs %s: **%.2f** of bare echo", num(r.Throughput), num(base.Throughput), ratioV)
	f.Status, f.Margin = margin(ratioV, purchaseGoal, true)
	if r.Errors > 0 || r.Declined > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("%d errors and %d declines during the run (first error: %s).", r.Errors, r.Declined, r.FirstError))
	}
}

// pacedResult fills a purchase latency figure from the paced run p at
// offered purchases a second, against the gateway's closed-loop capacity
// measured just before, judged against p99GoalMs.
func pacedResult(lat *Figure, p *posim.Result, offered, capacity float64, think time.Duration) {
	lat.Tables = []Table{loadTable(loadRow(fmt.Sprintf("paced, think %s (offered %s/s)", think.Round(time.Microsecond), num(offered)), p))}
	lat.Result = fmt.Sprintf("p99 **%.1f ms** (p50 %.2f ms) at %s purchases/s offered, %s answered",
		p.Latency.P99, p.Latency.P50, num(offered), num(p.Throughput))
	lat.Status, lat.Margin = margin(p.Latency.P99, p99GoalMs, false)
	switch {
	case offered > capacity:
		lat.Notes = append(lat.Notes, fmt.Sprintf("The offered %s purchases/s is above the gateway's closed-loop "+
			"capacity measured just before (%s/s), so the queue grows for the whole run and the p99 is the length "+
			"of that queue, not the service time; the capacity figure above is the one to move.",
			num(offered), num(capacity)))
	case lat.Status == Missed:
		lat.Notes = append(lat.Notes, fmt.Sprintf("The offered %s purchases/s is %.0f%% of the gateway's "+
			"closed-loop capacity measured just before (%s/s). So close to saturation every burst of arrivals "+
			"queues behind the group commit (a request waits for the group in progress, then for its own group "+
			"and its fdatasync), and the tail grows far faster than the median; meeting the p99 at this load "+
			"takes more capacity (the figure above), not only a shorter path.",
			num(offered), 100*offered/capacity, num(capacity)))
	}
	if p.Late > 0 {
		lat.Notes = append(lat.Notes, fmt.Sprintf("%s sends left more than half a think time after their due time (the terminal was still waiting for the previous answer).", commas(p.Late)))
	}
}

// simCommands are the commands that reproduce a load figure by hand: a
// simulation gateway from posim env, served by ecardgw, driven by posim.
func simCommands(pos, settlement int, runArgs string) []string {
	return []string{
		fmt.Sprintf("go run ./cmd/posim env --dir ./var/sim --pos %d --settlement %d --accounts %d", pos, settlement, pos),
		"go run ./cmd/ecardgw serve --config ./var/sim/ecardgw.yaml &",
		"go run ./cmd/posim run --config ./var/sim/ecardgw.yaml --accounts ./var/sim/accounts.csv --issuer-key ./var/sim/issuer.key " + runArgs,
	}
}
