package admin

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/metrics"
	"ecardgw/metrics/promtest"
)

// TestRealPrometheusScrapes runs the Prometheus operators run against the
// admin listener and reads back what it scraped.
func TestRealPrometheusScrapes(t *testing.T) {
	m := metrics.New(metrics.BuildInfo{Version: "v0.0.0-prom"})
	for range 3 {
		m.Request(metrics.MTI0200, metrics.RC00, 2*time.Millisecond)
	}
	m.SetStandInExposure(4250)
	s, _ := start(t, "127.0.0.1:0", m, Options{})

	p := promtest.Start(t, s.Addr())
	up, err := p.WaitFor(`up{job="ecardgw"}`, func(v float64) bool { return v == 1 }, 30*time.Second)
	require.NoError(t, err)
	require.InDelta(t, 1, up, 0)

	n, err := p.Query(`ecardgw_pos_requests_total{mti="0200",code="00"}`)
	require.NoError(t, err)
	require.InDelta(t, 3, n, 0)
	y, err := p.Query(`ecardgw_standin_exposure_yuan`)
	require.NoError(t, err)
	require.InDelta(t, 42.5, y, 1e-9)
	v, err := p.Query(`count(ecardgw_build_info{version="v0.0.0-prom"})`)
	require.NoError(t, err)
	require.InDelta(t, 1, v, 0)

	_, err = p.Query(`ecardgw_no_such_metric`)
	require.ErrorIs(t, err, promtest.ErrNoData)
	_, err = p.Query(`sum(`)
	require.ErrorIs(t, err, promtest.ErrQuery)
}
