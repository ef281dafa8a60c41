package promtest

import (
	"context"
	"ecardgw/gateway/logging/logtest"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// StartTimeout bounds how long Start waits for Prometheus to be ready.
const StartTimeout = 30 * time.Second

// Prom is a running Prometheus server owned by a test.
type Prom struct {
	URL    string // http://127.0.0.1:PORT
	client *http.Client
	cmd    *exec.Cmd
	log    *syncBuffer
	exited chan struct{}
}

// Start runs prometheus scraping targets (host:port, path /metrics) every
// second and returns once it reports ready. It is stopped by t.Cleanup; its
// log is printed when the test failed. Under -short it skips t.
func Start(t testing.TB, targets ...string) *Prom {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test runs a Prometheus server; make test runs it")
	}
	bin, err := exec.LookPath("prometheus")
	require.NoError(t, err, "the prometheus binary is required: apt-get install -y prometheus")
	require.NotEmpty(t, targets)

	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(config(targets)), 0o600))
	port := freePort(t)
	p := &Prom{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		client: &http.Client{Timeout: 5 * time.Second},
		log:    new(syncBuffer),
		exited: make(chan struct{}),
	}
	p.cmd = exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--log.level=warn",
	)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	require.NoError(t, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.log.String())
		}
	})
	require.NoError(t, p.waitReady(), "prometheus log:\n%s", p.log.String())
	return p
}

// Promtool returns the path of the real promtool (Debian package
// prometheus), failing t when it is not installed: a check that silently
// does not run is worse than none. Under -short it skips t.
func Promtool(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test runs promtool; make test runs it")
	}
	p, err := exec.LookPath("promtool")
	require.NoError(t, err, "promtool is required: apt-get install -y prometheus")
	return p
}

func config(targets []string) string {
	var b strings.Builder
	b.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	b.WriteString("scrape_configs:\n  - job_name: ecardgw\n    static_configs:\n      - targets:\n")
	for _, tg := range targets {
		fmt.Fprintf(&b, "          - %q\n", tg)
	}
	return b.String()
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before prometheus binds it; waitReady then fails with the log.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func (p *Prom) waitReady() error {
	deadline := time.Now().Add(StartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("prometheus exited before it was ready")
		default:
		}
		resp, err := p.client.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("prometheus not ready after %s", StartTimeout)
}

// stop terminates prometheus (SIGTERM, then SIGKILL after 10 s) by its PID.
func (p *Prom) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Query evaluates an instant PromQL query and returns the value of its
// first sample (vector) or the scalar. ErrNoData when the vector is empty.
func (p *Prom) Query(expr string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?query="+url.QueryEscape(expr), nil)
	if err != nil {
		return 0, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrQuery, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("%w: %s", ErrQuery, body.Error)
	}
	var pair []any
	switch body.Data.ResultType {
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		if err := json.Unmarshal(body.Data.Result, &vec); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrQuery, err)
		}
		if len(vec) == 0 {
			return 0, ErrNoData
		}
		pair = vec[0].Value
	case "scalar":
		if err := json.Unmarshal(body.Data.Result, &pair); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrQuery, err)
		}
	default:
		return 0, fmt.Errorf("%w: result type %q", ErrQuery, body.Data.ResultType)
	}
	if len(pair) != 2 {
		return 0, fmt.Errorf("%w: malformed sample", ErrQuery)
	}
	s, ok := pair[1].(string)
	if !ok {
		return 0, fmt.Errorf("%w: malformed sample value", ErrQuery)
	}
	return strconv.ParseFloat(s, 64)
}

// WaitFor polls expr every 250 ms until ok accepts its value or timeout
// passes, and returns the last value and error seen.
func (p *Prom) WaitFor(expr string, ok func(float64) bool, timeout time.Duration) (float64, error) {
	deadline := time.Now().Add(timeout)
	for {
		v, err := p.Query(expr)
		if err == nil && ok(v) {
			return v, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("%s = %v after %s", expr, v, timeout)
			}
			return v, err
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// syncBuffer collects the prometheus log; the exec package writes it from
// its own goroutine while a failing test may read it.
type syncBuffer = logtest.Buffer
