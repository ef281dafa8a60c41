package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/metrics"
)

func start(t *testing.T, addr string, m *metrics.Metrics, opts Options) (*Server, string) {
	t.Helper()
	s := New(addr, m, opts)
	require.NoError(t, s.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
	})
	return s, "http://" + s.Addr()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestHealthzAndMetrics(t *testing.T) {
	m := metrics.New(metrics.BuildInfo{Version: "v9"})
	m.Request(metrics.MTI0200, metrics.RC00, time.Millisecond)
	s, base := start(t, "127.0.0.1:0", m, Options{})
	require.NotEqual(t, "127.0.0.1:0", s.Addr(), "the bound port is reported")

	code, body := get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)

	code, body = get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `ecardgw_pos_requests_total{code="00",mti="0200"} 1`)
	require.Contains(t, body, `version="v9"`)

	code, _ = get(t, base+"/status")
	require.Equal(t, http.StatusNotFound, code, "no StatusFunc: no /status")

	resp, err := http.Post(base+"/healthz", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestReadyz(t *testing.T) {
	var storeClosed atomic.Bool
	var state atomic.Uint32
	state.Store(uint32(metrics.CentreUnreachable))
	checks := []Check{
		{Name: "store", Func: func(context.Context) (string, error) {
			if storeClosed.Load() {
				return "", errors.New("store closed: /var/lib/ecardgw/ecardgw.db card 6217000012345678901")
			}
			return "open", nil
		}},
		{Name: "pos_listener", Func: func(context.Context) (string, error) { return "listening on 0.0.0.0:5000", nil }},
		CentreCheck(func() metrics.CentreState { return metrics.CentreState(state.Load()) }),
	}
	_, base := start(t, "127.0.0.1:0", nil, Options{Checks: checks})

	code, body := get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	var r Readiness
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	require.True(t, r.Ready)
	require.Len(t, r.Checks, 3)
	require.Equal(t, CheckResult{Name: "centre", OK: true, Detail: "stand-in active"}, r.Checks[2])

	storeClosed.Store(true)
	state.Store(uint32(metrics.CentreReachable))
	code, body = get(t, base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.NotContains(t, body, "6217000012345678901", "check errors are sanitized")
	r = Readiness{}
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	require.False(t, r.Ready)
	require.False(t, r.Checks[0].OK)
	require.Contains(t, r.Checks[0].Error, "store closed")
	require.Equal(t, "centre reachable", r.Checks[2].Detail)

	code, _ = get(t, base+"/metrics")
	require.Equal(t, http.StatusNotFound, code, "nil metrics: no /metrics")
}

func TestCentreCheckStandalone(t *testing.T) {
	d, err := CentreCheck(func() metrics.CentreState { return metrics.CentreStandalone }).Func(context.Background())
	require.NoError(t, err)
	require.Equal(t, "standalone: no centre", d)
}

func TestStatusRoundTrip(t *testing.T) {
	started := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	var fail atomic.Bool
	status := func(context.Context) (Status, error) {
		if fail.Load() {
			return Status{}, errors.New("store busy")
		}
		return Status{
			Version: "v1", Mode: "connected", StartedAt: started, Connections: 12, Sessions: 9,
			Outbox: OutboxStatus{Records: 3, OldestAgeSeconds: 4.5}, Centre: "reachable",
			StandInExposure: 12000, BlacklistVersion: 7,
		}, nil
	}
	s, _ := start(t, "127.0.0.1:0", nil, Options{Status: status})
	ctx := context.Background()
	st, err := FetchStatus(ctx, nil, s.Addr())
	require.NoError(t, err)
	require.Equal(t, 12, st.Connections)
	require.Equal(t, OutboxStatus{Records: 3, OldestAgeSeconds: 4.5}, st.Outbox)
	require.Equal(t, started, st.StartedAt)
	require.False(t, st.Now.IsZero())
	require.Equal(t, int64(12000), st.StandInExposure)

	fail.Store(true)
	_, err = FetchStatus(ctx, nil, s.Addr())
	require.ErrorIs(t, err, ErrStatus)
	require.Contains(t, err.Error(), "store busy")
}

func TestPprofOnlyOnLoopback(t *testing.T) {
	s, base := start(t, "127.0.0.1:0", nil, Options{Tokens: validToken})
	require.True(t, s.PprofEnabled())
	code, _, body := request(t, base+"/debug/pprof/", "", "Bearer "+adminToken)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "goroutine")
	code, _, _ = request(t, base+"/debug/pprof/goroutine?debug=1", "", "Bearer "+adminToken)
	require.Equal(t, http.StatusOK, code)

	wide, _ := start(t, ":0", nil, Options{Tokens: validToken})
	require.False(t, wide.PprofEnabled(), "bound to every interface: no pprof")
	port := wide.Addr()[strings.LastIndex(wide.Addr(), ":"):]
	code, _, _ = request(t, "http://127.0.0.1"+port+"/debug/pprof/", "", "Bearer "+adminToken)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = get(t, "http://127.0.0.1"+port+"/healthz")
	require.Equal(t, http.StatusOK, code)
}

func TestLifecycle(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New("", nil, Options{})
	require.Equal(t, DefaultAddr, s.Addr())
	require.NoError(t, s.Shutdown(context.Background()), "shutdown before start is harmless")

	s = New("127.0.0.1:0", nil, Options{})
	require.NoError(t, s.Start())
	require.ErrorIs(t, s.Start(), ErrStarted)
	code, _ := get(t, "http://"+s.Addr()+"/healthz")
	require.Equal(t, http.StatusOK, code)
	http.DefaultClient.CloseIdleConnections()
	require.NoError(t, s.Shutdown(context.Background()))
	require.NoError(t, s.Shutdown(context.Background()), "twice is harmless")
	_, err := http.Get("http://" + s.Addr() + "/healthz")
	require.Error(t, err, "listener closed")

	// Leak check: every goroutine the server started has ended.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before)
}

func TestStartFailsOnBusyPort(t *testing.T) {
	a, _ := start(t, "127.0.0.1:0", nil, Options{})
	b := New(a.Addr(), nil, Options{})
	require.Error(t, b.Start())
}
