package benchsuite

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ecardgw/gateway/config"
	"ecardgw/gateway/testbed/posim"
)

// SeparateStep is the name of the step (for -only) that measures the
// durable purchases with the gateway and the simulator in processes of
// their own.
const SeparateStep = "purchases at 1000 separate"

func separateTitles(conns int) (capacity, latency string) {
	n := commas(int64(conns))
	return fmt.Sprintf("Durable card purchases vs bare echo at %s terminals, gateway and simulator in separate processes", n),
		fmt.Sprintf("Purchase latency at a quarter of the bare echo's rate, %s terminals, separate processes", n)
}

// stopGrace is how long a child gets between SIGTERM and SIGKILL.
const stopGrace = 15 * time.Second

// proc is a child process of the suite whose output goes to a log file.
// It ends when stop is called or its context ends: SIGTERM, then SIGKILL
// after the grace period; and with this process (Pdeathsig), should the
// suite itself be killed.
type proc struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	log    string
	done   chan struct{}
	err    error
}

func startProc(ctx context.Context, logPath string, grace time.Duration, bin string, args ...string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env = childEnv()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = grace
	cmd.Stdout, cmd.Stderr = lf, lf
	p := &proc{cmd: cmd, cancel: cancel, log: logPath, done: make(chan struct{})}
	err = startHeld(cmd, func(err error) {
		p.err = err
		// A process that exits 0 on the SIGTERM of a cancelled context
		// stopped cleanly: Wait reports the context's error for it.
		if st := cmd.ProcessState; st != nil && st.Success() {
			p.err = nil
		}
		_ = lf.Close()
		close(p.done)
	})
	if err != nil {
		cancel()
		_ = lf.Close()
		return nil, err
	}
	return p, nil
}

// startHeld starts cmd so that it dies with the suite (Pdeathsig), and
// calls exited with Wait's error once it has ended. Pdeathsig fires when
// the thread that started the child ends, not the process: the child is
// started and waited for on a thread held for the purpose, so that no
// goroutine that locks a thread and ends (gnet's loops) takes it down
// with the child. cmd's output must not be a pipe of exec's (StdoutPipe,
// StderrPipe): Wait runs at once.
func startHeld(cmd *exec.Cmd, exited func(error)) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited(cmd.Wait())
	}()
	return <-started
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process (if it still runs) and waits for it: its exit
// error, nil for a clean exit.
func (p *proc) stop() error {
	p.cancel()
	<-p.done
	return p.err
}

// wait waits for the process to end by itself.
func (p *proc) wait() error {
	<-p.done
	return p.err
}

// tail is the end of the process's output, for an error message.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return strings.TrimSpace(string(b))
}

// cpu is the CPU time the process has used so far (0 once it has ended).
func (p *proc) cpu() time.Duration {
	d, _ := procCPU(p.cmd.Process.Pid)
	return d
}

// procCPU is a process's user and system CPU time from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b), 100) // USER_HZ is 100 on Linux
}

// parseProcStat reads utime and stime (fields 14 and 15, in ticks of
// 1/hz s) from a /proc/PID/stat line.
func parseProcStat(line string, hz int) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state): utime and stime are f[11] and f[12].
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("%w: short /proc stat line", ErrChild)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: /proc stat: %v", ErrChild, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / time.Duration(hz), nil
}

// parseRunJSON reads what `posim run --json` wrote for one terminal
// count; with baseline, the bare echo run of the same invocation must be
// in it. A run in which no terminal got through is an error naming the
// client's first error.
func parseRunJSON(b []byte, baseline bool) (*posim.Result, error) {
	var r posim.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: reading posim's JSON: %v", ErrLoadClient, err)
	}
	check := func(name string, r *posim.Result) error {
		if r.Terminals == 0 {
			return fmt.Errorf("%w: %sno terminal connected (%d failed): %s", ErrLoadClient, name, r.ConnErrors, r.FirstError)
		}
		return nil
	}
	if err := check("", &r); err != nil {
		return nil, err
	}
	if baseline {
		if r.Baseline == nil {
			return nil, fmt.Errorf("%w: no bare echo baseline in posim's JSON", ErrLoadClient)
		}
		if err := check("baseline: ", r.Baseline); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// combineApart adds up halves read from posim's JSON as posim.Combine
// does. The JSON has no latency histogram to merge, so the combined
// quantiles are the worse half's.
func combineApart(rs ...*posim.Result) *posim.Result {
	if len(rs) == 0 {
		return nil
	}
	c := posim.Combine(rs...)
	c.Latency = posim.Latency{}
	for _, r := range rs {
		l := r.Latency
		c.Latency.P50, c.Latency.P90, c.Latency.P99 = max(c.Latency.P50, l.P50), max(c.Latency.P90, l.P90), max(c.Latency.P99, l.P99)
		c.Latency.P999, c.Latency.Max, c.Latency.Mean = max(c.Latency.P999, l.P999), max(c.Latency.Max, l.Max), max(c.Latency.Mean, l.Mean)
	}
	return c
}

// binaries builds ecardgw and posim from this tree into the suite's
// temporary directory, once per run.
func (s *Suite) binaries(ctx context.Context) (ecardgw, posimBin string, err error) {
	s.buildOnce.Do(func() {
		dir := s.tmpDir("bin")
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		if out, err := runGo(ctx, s.GoBin, s.Root, "build", "-o", dir+string(filepath.Separator), "./cmd/ecardgw", "./cmd/posim"); err != nil {
			s.buildErr = fmt.Errorf("%w: %s", err, firstLine(string(out)))
		}
		s.gwBin, s.posimBin = filepath.Join(dir, "ecardgw"), filepath.Join(dir, "posim")
	})
	return s.gwBin, s.posimBin, s.buildErr
}

// posimRun runs `posim run` as a process of its own against env with the
// JSON written to a file, bounded by limit, and reads the result.
func (s *Suite) posimRun(ctx context.Context, bin string, env *posim.Env, name string, limit time.Duration,
	baseline bool, args ...string) (*posim.Result, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	out := filepath.Join(env.Dir, name+".json")
	full := append([]string{"run", "--config", env.Config, "--accounts", env.Accounts, "--issuer-key", env.IssuerKey,
		"--json", out}, args...)
	if baseline {
		full = append(full, "--baseline")
	}
	p, err := startProc(ctx, filepath.Join(env.Dir, name+".log"), stopGrace, bin, full...)
	if err != nil {
		return nil, 0, err
	}
	if err := p.wait(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%v (stopped after %s)", err, limit)
		}
		return nil, 0, fmt.Errorf("%w: posim %s: %v: %s", ErrLoadClient, name, err, lastLine(p.tail()))
	}
	cpu := p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: posim %s: %v", ErrLoadClient, name, err)
	}
	r, err := parseRunJSON(b, baseline)
	return r, cpu, err
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// addAdminToken gives the environment's key file an admin token, so that
// the suite may take a CPU profile of the gateway process through its
// admin listener's /debug/pprof (loopback only).
func addAdminToken(env *posim.Env) (string, error) {
	keys, err := config.LoadKeys(env.Keys)
	if err != nil {
		return "", err
	}
	b := make([]byte, 20)
	if _, err := crand.Read(b); err != nil {
		return "", err
	}
	tok := "benchsuite_" + hex.EncodeToString(b)
	keys.AdminTokens = append(keys.AdminTokens, config.Secret(tok))
	return tok, config.WriteKeys(env.Keys, keys)
}

// approvedPurchases is the gateway's counter of approved 0200s: the
// gateway half of a posim invocation has begun when it moves (the
// sign-ins before are 0800s).
const approvedPurchases = `ecardgw_pos_requests_total{code="00",mti="0200"}`

// gatewayProfile writes a CPU profile of d of the gateway at adminAddr to
// path, started once the sample start of its /metrics exceeds from.
func gatewayProfile(ctx context.Context, adminAddr, token, start string, from float64, d time.Duration, path string) error {
	for {
		v, err := scrapeGauge("http://"+adminAddr+"/metrics", start)
		if err == nil && v > from {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: waiting for %s to pass %g to profile: %v (last: %v)", ErrChild, start, from, ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	secs := max(1, int(d/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", adminAddr, secs), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: time.Duration(secs)*time.Second + time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: /debug/pprof/profile: %s", ErrChild, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 256<<20)); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// separateFigure: the durable purchases of purchaseFigure with the
// gateway run as `ecardgw serve` and the terminals as `posim run`, each a
// process of its own built from this tree, as an operator measures them.
func (s *Suite) separateFigure(ctx context.Context) (f, lat Figure, err error) {
	conns := s.Conns1000
	half := s.LoadTime / 2
	capTitle, latTitle := separateTitles(conns)
	f = Figure{Title: capTitle, Goal: purchaseGoalText(),
		What: fmt.Sprintf("The durable card purchases of the in-process figure above, with the gateway and the "+
			"simulated terminals each in a process of its own, as an operator measures them: the suite builds "+
			"`ecardgw` and `posim` from this tree, writes a simulation gateway as `posim env` does (%d canteen POS, "+
			"one card each), starts `ecardgw serve` on it (loopback ports), and runs `posim run --closed-loop "+
			"--baseline --json` twice for %s each: every invocation signs the %d terminals in, drives the gateway, "+
			"then the bare gnet echo in the posim process at the same number of connections for as long. So the "+
			"halves interleave (gateway, baseline, gateway, baseline) and the baseline is measured by the same "+
			"client process as the gateway. The gateway's process runs nothing but the gateway: the terminals' CPU "+
			"is not in its profile, only in the machine's.", conns, half, conns),
		Commands: simCommands(conns, 0, fmt.Sprintf("--terminals %d --mix card=1 --closed-loop --duration %s --baseline --json out.json", conns, half))}
	lat = Figure{Title: latTitle, Goal: p99GoalText(),
		What: pacedWhat(conns) + " Here with the gateway (`ecardgw serve`) and the terminals (`posim run --think`) " +
			"in separate processes, the offered load a share of the bare echo's rate measured by the same client " +
			"process in the closed-loop figure just above."}
	gwBin, posimBin, err := s.binaries(ctx)
	if err != nil {
		return f, lat, err
	}
	sg, err := s.startSeparate(ctx, gwBin, "separate", conns)
	if err != nil {
		return f, lat, err
	}
	defer sg.stopInto(&err)
	env, adminAddr, token, gone := sg.env, sg.adminAddr, sg.token, sg.gone
	// Each invocation: sign-in (seconds at most), the gateway half and the
	// baseline half; bounded with room for a slow sign-in.
	limit := 2*s.LoadTime + 2*time.Minute
	var gs, bs []*posim.Result
	var gwCPU, clientCPU time.Duration
	idle0, total0 := cpuTimes()
	// The first gateway half runs under a CPU profile of the gateway
	// process, taken through its admin listener.
	prof := filepath.Join(s.Tmp, "separate.pprof")
	var profErr error
	for i := range 2 {
		cpu0 := sg.gw.cpu()
		pctx, cancel := context.WithTimeout(ctx, limit)
		profDone := make(chan struct{})
		if i == 0 {
			go func() {
				defer close(profDone)
				profErr = gatewayProfile(pctx, adminAddr, token, approvedPurchases, 0, half, prof)
			}()
		} else {
			close(profDone)
		}
		r, ccpu, err := s.posimRun(ctx, posimBin, env, fmt.Sprintf("closed-%d", i+1), limit, true,
			"--terminals", strconv.Itoa(conns), "--mix", "card=1", "--closed-loop", "--duration", half.String())
		if err != nil {
			cancel()
		}
		<-profDone
		cancel()
		if err != nil {
			return f, lat, gone(err)
		}
		gwCPU += sg.gw.cpu() - cpu0
		clientCPU += ccpu
		gs, bs = append(gs, r), append(bs, r.Baseline)
	}
	idle1, total1 := cpuTimes()
	base, r := combineApart(bs...), combineApart(gs...)
	closedLoopResult(&f, base, r)
	f.Notes = append(f.Notes, "posim's JSON has no latency histogram, so the p50 and p99 of these rows are the "+
		"worse of the two halves.", cpuNote(r.Duration, gwCPU, clientCPU, idle1-idle0, total1-total0))
	if f.Status == Missed {
		s.separateMiss(ctx, &f, prof, profErr, gs[0], purchaseGoal*base.Throughput)
	}

	offered := pacedShare * base.Throughput
	think := posim.ThinkFor(conns, offered)
	runArgs := []string{"--terminals", strconv.Itoa(conns), "--mix", "card=1", "--think", think.String(), "--duration", s.LoadTime.String()}
	lat.Commands = simCommands(conns, 0, strings.Join(runArgs, " "))
	p0 := scrapeCommits(adminAddr)
	idem0 := scrapeIdemLog(adminAddr)
	p, _, err := s.posimRun(ctx, posimBin, env, "paced", limit, false, runArgs...)
	if err != nil {
		return f, lat, gone(err)
	}
	p1 := scrapeCommits(adminAddr)
	idem1 := scrapeIdemLog(adminAddr)
	pacedResult(&lat, p, offered, r.Throughput, think)
	if note := idemLogNote("the paced invocation", idem0, idem1); note != "" {
		lat.Notes = append(lat.Notes, note)
	}
	if lat.Status == Missed {
		if note := p1.slow(p0, "the paced invocation (its sign-ins included)", 25, 100, "every request waiting "+
			"on such a commit waits that long at least."); note != "" {
			lat.Notes = append(lat.Notes, note)
		}
	}

	// The same paced invocation against a gateway that has just started
	// on a fresh store: no closed-loop burst before it, so nothing left
	// to catch up with (idempotency merges, a larger file).
	if err := sg.stop(); err != nil {
		return f, lat, err
	}
	fresh, err := s.startSeparate(ctx, gwBin, "separate-fresh", conns)
	if err != nil {
		return f, lat, err
	}
	defer fresh.stopInto(&err)
	q, _, err := s.posimRun(ctx, posimBin, fresh.env, "paced-fresh", limit, false, runArgs...)
	if err != nil {
		return f, lat, fresh.gone(err)
	}
	lat.Tables[0].Rows = append(lat.Tables[0].Rows, loadRow("the same, on a freshly started gateway and store", q))
	lat.Notes = append(lat.Notes, fmt.Sprintf("The figure is the first row: the paced invocation right after "+
		"the closed-loop ones, on the same gateway, whose store then still merges the idempotency logs that "+
		"burst filled (at a quarter of the load, store/idemlog.go) and holds the burst's records. The last row "+
		"is the same invocation against a gateway started afresh on a new store: p99 %.1f ms (p50 %.2f ms). "+
		"Not the figure of record: a gateway at lunch has had its morning.", q.Latency.P99, q.Latency.P50))
	return f, lat, nil
}

// sepGateway is an `ecardgw serve` process on a simulation environment of
// its own, for the separate-process figures.
type sepGateway struct {
	env       *posim.Env
	gw        *proc
	adminAddr string
	token     string
	stopped   bool
}

// startSeparate writes a simulation environment (conns canteen POS, one
// card each, loopback ports) under dir and starts `ecardgw serve` on it,
// returning once it is ready.
func (s *Suite) startSeparate(ctx context.Context, gwBin, dir string, conns int) (*sepGateway, error) {
	posAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	adminAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	env, err := posim.WriteEnv(posim.EnvSpec{Dir: s.tmpDir(dir), POS: conns, Accounts: conns, POSAddr: posAddr, AdminAddr: adminAddr})
	if err != nil {
		return nil, err
	}
	token, err := addAdminToken(env)
	if err != nil {
		return nil, err
	}
	gw, err := startProc(ctx, filepath.Join(env.Dir, "ecardgw.log"), stopGrace, gwBin, "serve", "--config", env.Config)
	if err != nil {
		return nil, err
	}
	sg := &sepGateway{env: env, gw: gw, adminAddr: adminAddr, token: token}
	if err := waitReady(ctx, "http://"+adminAddr+"/readyz", 60*time.Second, 20*time.Millisecond); err != nil {
		err = sg.gone(err)
		_ = sg.stop()
		return nil, err
	}
	return sg, nil
}

// gone names a gateway that exited as the cause of err.
func (g *sepGateway) gone(err error) error {
	if g.gw.exited() {
		return fmt.Errorf("%w: ecardgw serve exited: %v: %s", ErrChild, g.gw.err, lastLine(g.gw.tail()))
	}
	return err
}

// stopInto stops the gateway and, when *err is nil, sets it to what the
// stop reports (for a deferred stop).
func (g *sepGateway) stopInto(err *error) {
	if serr := g.stop(); serr != nil && *err == nil {
		*err = serr
	}
}

// stop stops the gateway (once; later calls do nothing).
func (g *sepGateway) stop() error {
	if g.stopped {
		return nil
	}
	g.stopped = true
	if err := g.gw.stop(); err != nil {
		return fmt.Errorf("%w: ecardgw serve did not stop cleanly: %v: %s", ErrChild, err, lastLine(g.gw.tail()))
	}
	return nil
}

// cpuNote says how the CPU divided between the two processes over the
// closed-loop invocations (gateway seconds of gateway load), with the
// machine's idle and total ticks meanwhile (total 0: unknown).
func cpuNote(gateway float64, gw, client time.Duration, idle, total uint64) string {
	out := fmt.Sprintf("CPU over the two invocations (%.1f s of gateway load, as long of baseline, and the "+
		"sign-ins): the gateway process used %.1f s, the posim process (the terminals and, in its own halves, "+
		"the bare echo server too) %.1f s, on %d cores", gateway, gw.Seconds(), client.Seconds(), runtime.NumCPU())
	if total == 0 {
		return out + "."
	}
	share := float64(idle) / float64(total)
	out += fmt.Sprintf("; the machine's CPU was %.0f%% idle meanwhile", 100*share)
	if share < 0.2 && client > gw {
		out += ": the machine is CPU-bound and the simulator takes more of it than the gateway, so this figure " +
			"is bounded by the two processes sharing the cores as much as by the gateway (the in-process figure " +
			"shares them too, in one runtime)"
	}
	return out + "."
}

// separateMiss adds to a missed separate-process capacity figure the
// gateway process's CPU profile of the first gateway half and what the
// committer did in it.
func (s *Suite) separateMiss(ctx context.Context, f *Figure, prof string, profErr error, first *posim.Result, target float64) {
	if profErr != nil {
		f.Notes = append(f.Notes, "No CPU profile of the gateway process: "+firstLine(profErr.Error()))
		return
	}
	top, err := PprofTop(ctx, s.GoBin, s.Root, prof)
	if err != nil {
		f.Notes = append(f.Notes, "The gateway's CPU profile could not be read: "+firstLine(err.Error()))
		return
	}
	if dur, total := profileTotals(top); dur > 0 {
		f.Notes = append(f.Notes, fmt.Sprintf("CPU profile of the gateway process over the first gateway half: "+
			"%.2f s of CPU in %.1f s (%.2f of the %d cores); the terminals are in the other process. Its top "+
			"functions are below.", total, dur, total/dur, runtime.NumCPU()))
	}
	f.Profile = top
	note, err := s.committerNote(ctx, prof, first.Answers, first.Duration, commitLoad{}, target)
	switch {
	case err != nil:
		f.Notes = append(f.Notes, "The committer's share could not be read from the profile: "+firstLine(err.Error()))
	case note != "":
		f.Notes = append(f.Notes, note)
	}
}

// binaries' state, shared by the figures that build them.
type builds struct {
	buildOnce       sync.Once
	buildErr        error
	gwBin, posimBin string
}
