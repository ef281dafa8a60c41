package benchsuite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ecardgw/gateway/testbed/posim"
)

func envAt(configPath string) *posim.Env {
	return &posim.Env{Dir: filepath.Dir(configPath), Config: configPath}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// vmRSS is a process's resident set in bytes, from /proc/PID/status.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("%w: no VmRSS for %d", ErrChild, pid)
}

// scrapeGauge reads one unlabelled sample from a /metrics page.
func scrapeGauge(url, name string) (float64, error) {
	m, err := scrapeMetrics(url)
	if err != nil {
		return 0, err
	}
	return m.value(name)
}

// metricsPage is one read of a /metrics page: each sample's name, with
// its labels as the page writes them, to its value.
type metricsPage struct {
	url    string
	values map[string]float64
}

// scrapeMetrics reads the metrics page at url once, so that the values
// read from it come from the same moment.
func scrapeMetrics(url string) (metricsPage, error) {
	resp, err := http.Get(url)
	if err != nil {
		return metricsPage{}, err
	}
	defer resp.Body.Close()
	m := metricsPage{url: url, values: make(map[string]float64)}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i <= 0 {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(line[i+1:]), 64); err == nil {
			m.values[line[:i]] = v
		}
	}
	return m, sc.Err()
}

// value is the sample name's value, or an error when the page lacks it.
func (m metricsPage) value(name string) (float64, error) {
	v, ok := m.values[name]
	if !ok {
		return 0, fmt.Errorf("%w: %s not on %s", ErrChild, name, m.url)
	}
	return v, nil
}

// idleFigure: memory per idle signed-in terminal, measured on a gateway
// in a child process.
func (s *Suite) idleFigure(ctx context.Context) (Figure, error) {
	n := s.IdleTerminals
	f := Figure{Title: fmt.Sprintf("%s idle signed-in terminals: memory per terminal", commas(int64(n))), Goal: "≤ 4 KiB",
		What: fmt.Sprintf("A standalone gateway configured for %s terminals runs in a child process (the suite "+
			"re-executes itself with -%s, so the child holds nothing but the daemon). Its resident set "+
			"(`VmRSS` in /proc/PID/status) and Go heap in use (`go_memstats_heap_inuse_bytes` from /metrics) are "+
			"read once it is ready, then %s terminals connect and sign in (a session each: working keys, the "+
			"sealed session in the store) and stay idle; after 3 s the same two figures are read again. Memory "+
			"per terminal is the growth divided by the terminals.", commas(int64(n)), ServeFlag, commas(int64(n))),
		Commands: []string{"go run ./cmd/benchsuite -out docs/BENCHMARKS.md   # child-process figure"}}
	posAddr, err := freePort()
	if err != nil {
		return f, err
	}
	adminAddr, err := freePort()
	if err != nil {
		return f, err
	}
	env, err := posim.WriteEnv(posim.EnvSpec{Dir: s.tmpDir("idle"), POS: n, Accounts: 1, POSAddr: posAddr, AdminAddr: adminAddr})
	if err != nil {
		return f, err
	}
	exe, err := os.Executable()
	if err != nil {
		return f, err
	}
	heap := filepath.Join(s.Tmp, "idle-heap.pprof")
	// A child like the separate-process steps' (startProc): its log in a
	// file, stopped with SIGTERM, killed with the suite.
	gw, err := startProc(ctx, filepath.Join(s.Tmp, "idle-gateway.log"), stopGrace, exe, "-"+ServeFlag, env.Config, "-heap-profile", heap)
	if err != nil {
		return f, err
	}
	defer func() { _ = gw.stop() }()
	metricsURL := "http://" + adminAddr + "/metrics"
	if err := waitReady(ctx, "http://"+adminAddr+"/readyz", 60*time.Second, 20*time.Millisecond); err != nil {
		return f, fmt.Errorf("%w (gateway: %s)", err, gw.tail())
	}
	time.Sleep(time.Second)
	rss0, err := vmRSS(gw.cmd.Process.Pid)
	if err != nil {
		return f, err
	}
	heap0, err := scrapeGauge(metricsURL, "go_memstats_heap_inuse_bytes")
	if err != nil {
		return f, err
	}
	fleet, err := env.Fleet(posAddr)
	if err != nil {
		return f, err
	}
	t0 := time.Now()
	held, err := posim.Hold(ctx, fleet, n, 64)
	if err != nil {
		return f, err
	}
	defer held.Close()
	signIn := time.Since(t0)
	time.Sleep(3 * time.Second)
	rss1, err := vmRSS(gw.cmd.Process.Pid)
	if err != nil {
		return f, err
	}
	heap1, err := scrapeGauge(metricsURL, "go_memstats_heap_inuse_bytes")
	if err != nil {
		return f, err
	}
	k := float64(held.Len())
	perRSS, perHeap := float64(rss1-rss0)/k, (heap1-heap0)/k
	f.Tables = []Table{{Header: []string{"", "before", fmt.Sprintf("with %s terminals", commas(int64(held.Len()))), "per terminal"},
		Right: []bool{false, true, true, true},
		Rows: [][]string{
			{"resident set (VmRSS)", mib(float64(rss0)), mib(float64(rss1)), kib(perRSS)},
			{"Go heap in use", mib(heap0), mib(heap1), kib(perHeap)},
		}}}
	f.Result = fmt.Sprintf("**%s** resident per terminal (%s of Go heap)", kib(perRSS), kib(perHeap))
	f.Status, f.Margin = margin(perRSS/1024, 4, false)
	f.Notes = []string{fmt.Sprintf("%s terminals signed in in %.1f s (%d failed). The resident set also counts "+
		"the Go runtime's headroom (the heap grows to about twice the live data before a collection) and the "+
		"kernel's socket buffers are not in it.", commas(int64(held.Len())), signIn.Seconds(), held.ConnErrors)}
	if f.Status == Missed {
		_ = gw.cmd.Process.Signal(syscall.SIGUSR1)
		time.Sleep(2 * time.Second)
		if top, err := PprofTop(ctx, s.GoBin, s.Root, heap); err == nil {
			f.Profile = top
			f.Notes = append(f.Notes, "The profile below is the child's heap (inuse_space, after a GC) with the terminals still connected.")
		}
	}
	return f, nil
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }
func kib(b float64) string { return fmt.Sprintf("%.2f KiB", b/1024) }
