package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// metricRow is one table row describing a metric: name, type, labels,
// meaning.
var metricRow = regexp.MustCompile("(?m)^\\| `(ecardgw_[a-z0-9_]+)` \\| ([a-z]+) \\| (.*?) \\| (.*) \\|$")

func metricRows(t *testing.T, text string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, m := range metricRow.FindAllStringSubmatch(text, -1) {
		_, dup := rows[m[1]]
		require.False(t, dup, "%s is described twice", m[1])
		rows[m[1]] = strings.Join(m[2:], " | ")
	}
	return rows
}

// readmeMetrics is the README's "## Metrics" section.
func readmeMetrics(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(readme), "\n## Metrics\n")
	require.True(t, ok, "README.md has a \"## Metrics\" section")
	if i := strings.Index(sec, "\n## "); i >= 0 { // up to the next section
		sec = sec[:i]
	}
	return sec
}

// The README lists every registered metric with the same type, labels
// and meaning as docs/metrics.md, and nothing the gateway does not export.
func TestReadmeListsEveryMetric(t *testing.T) {
	names := gatewayNames(t, New(BuildInfo{}))
	readme := metricRows(t, readmeMetrics(t))
	doc, err := os.ReadFile("../docs/metrics.md")
	require.NoError(t, err)
	docs := metricRows(t, string(doc))
	for _, n := range names {
		require.Contains(t, readme, n, "README.md's Metrics section must list %s", n)
		require.Equal(t, docs[n], readme[n], "README.md and docs/metrics.md describe %s differently", n)
	}
	require.Len(t, readme, len(names), "README.md lists a metric the gateway does not export")
}
