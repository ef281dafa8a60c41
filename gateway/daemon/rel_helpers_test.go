package daemon_test

import (
	"bufio"
	"ecardgw/gateway/logging/logtest"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/store"
)

// logBuf collects a gateway's log lines for assertions.
type logBuf = logtest.Buffer

// startLogged starts a gateway like startGateway, with daemon options
// changed by mod and its log (debug level) collected.
func startLogged(t *testing.T, o gwOptions, mod func(*daemon.Options)) (*gateway, *logBuf) {
	t.Helper()
	if o.accounts == 0 {
		o.accounts = 8
	}
	if o.balance == 0 {
		o.balance = 100000
	}
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, o)
	importAccounts(t, filepath.Join(dir, "gw.db"), o.accounts, o.balance, store.Options{MaxSize: o.maxSize})
	g := &gateway{t: t, dir: dir, cfg: path}
	logs := new(logBuf)
	cfg, err := config.Load(path)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	opts := daemon.Options{ConfigPath: path, ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), StoreMaxSize: o.maxSize}
	if mod != nil {
		mod(&opts)
	}
	d, err := daemon.New(cfg, keys, opts)
	require.NoError(t, err)
	require.NoError(t, d.Start())
	g.d, g.addr = d, d.POSAddr().String()
	t.Cleanup(func() { _ = d.Stop() })
	return g, logs
}

// scrape returns the gateway's /metrics text.
func (g *gateway) scrape() string {
	g.t.Helper()
	res, err := http.Get("http://" + g.d.Admin.Addr() + "/metrics")
	require.NoError(g.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(g.t, err)
	require.Equal(g.t, http.StatusOK, res.StatusCode)
	return string(body)
}

// metric sums the samples of name whose labels contain every labels
// fragment (e.g. `reason="slow_reader"`); -1 when there is none.
func metric(scrape, name string, labels ...string) float64 {
	sum, found := 0.0, false
	sc := bufio.NewScanner(strings.NewReader(scrape))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(rest, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(rest[strings.LastIndexByte(rest, ' ')+1:], 64)
		if err == nil {
			sum, found = sum+v, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

// countLines counts the log lines containing s.
func countLines(log, s string) int {
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}
