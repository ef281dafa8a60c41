package metrics

import (
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/require"

	"ecardgw/metrics/promtest"
)

// promtool finds the real promtool (Debian package prometheus); the tests
// that need it fail without it, and skip under -short (promtest.Promtool).
func promtool(t *testing.T) string {
	t.Helper()
	return promtest.Promtool(t)
}

// gatewayNames is every ecardgw_* metric family the registry exposes.
func gatewayNames(t *testing.T, m *Metrics) []string {
	t.Helper()
	mfs, err := m.Registry().Gather()
	require.NoError(t, err)
	var names []string
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), Namespace+"_") {
			names = append(names, mf.GetName())
		}
	}
	sort.Strings(names)
	return names
}

func TestPromlint(t *testing.T) {
	m := New(BuildInfo{Version: "v0.0.0-test"})
	touchAll(m)
	mfs, err := m.Registry().Gather()
	require.NoError(t, err)
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	require.NoError(t, err)
	require.Empty(t, problems)
	require.GreaterOrEqual(t, len(gatewayNames(t, m)), 25)
}

func TestPromtoolCheckMetrics(t *testing.T) {
	tool := promtool(t)
	m := New(BuildInfo{Version: "v0.0.0-test"})
	touchAll(m)
	exposition := scrape(t, m)
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "promtool check metrics:\n%s", out.String())
	require.Empty(t, strings.TrimSpace(out.String()))
}

func TestPromtoolCatchesBadNames(t *testing.T) {
	// Proves the check above can fail: promtool must reject a counter
	// without _total and a non-base unit.
	tool := promtool(t)
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader("# HELP ecardgw_x_milliseconds x\n# TYPE ecardgw_x_milliseconds counter\necardgw_x_milliseconds 1\n")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "ecardgw_x_milliseconds")
}
