package daemon_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/metrics/promtest"
)

// TestRealPrometheusScrapesRunningGateway is the scrape an operator sets
// up: a real Prometheus against the admin listener of a whole running
// gateway that has served terminals.
func TestRealPrometheusScrapesRunningGateway(t *testing.T) {
	g := startGateway(t, gwOptions{})
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	for i := 1; i <= 3; i++ {
		resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(i), 100, nil), true)
		require.NoError(t, err)
		require.Equal(t, "00", posclient.RC(resp))
	}

	prom := promtest.Start(t, g.d.Admin.Addr())
	wait := func(expr string, ok func(float64) bool) float64 {
		t.Helper()
		v, err := prom.WaitFor(expr, ok, 30*time.Second)
		require.NoError(t, err, expr)
		return v
	}
	wait(`up{job="ecardgw"}`, func(v float64) bool { return v == 1 })
	wait(`sum(ecardgw_pos_requests_total)`, func(v float64) bool { return v > 0 })
	require.InDelta(t, 3, wait(`ecardgw_pos_requests_total{mti="0200",code="00"}`, func(v float64) bool { return v >= 3 }), 0)
	require.InDelta(t, 1, wait(`ecardgw_pos_requests_total{mti="0800",code="00"}`, func(v float64) bool { return v >= 1 }), 0)
	require.InDelta(t, 1, wait(`ecardgw_session_sign_ins_total`, func(v float64) bool { return v >= 1 }), 0)
	wait(`ecardgw_pos_connections_open`, func(v float64) bool { return v == 1 })
	wait(`ecardgw_store_up`, func(v float64) bool { return v == 1 })
	wait(`count(ecardgw_build_info)`, func(v float64) bool { return v == 1 })
	wait(`sum(ecardgw_pos_request_duration_seconds_count)`, func(v float64) bool { return v >= 4 })
}

// TestPromtoolLintsRunningGateway lints what a running gateway actually
// serves after traffic (every labelled series, runtime and process
// collectors included) with the promtool operators have.
func TestPromtoolLintsRunningGateway(t *testing.T) {
	tool := promtest.Promtool(t)
	g := startGateway(t, gwOptions{})
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	_, _, err = p.Send(ctx, p.CardPurchase(cardOf(1), 100, nil), true)
	require.NoError(t, err)

	resp, err := http.Get("http://" + g.d.Admin.Addr() + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(body), `ecardgw_pos_requests_total{code="00",mti="0200"} 1`)

	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "promtool check metrics:\n%s", out.String())
	require.Empty(t, strings.TrimSpace(out.String()))
}
