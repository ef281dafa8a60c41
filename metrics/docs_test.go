package metrics

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// metricRef finds ecardgw metric names in docs, rules and dashboards.
var metricRef = regexp.MustCompile(`\becardgw_[a-z0-9_]*[a-z0-9]`)

// familyOf strips the series suffixes of histograms so a reference to
// x_bucket or x_count names the family x.
func familyOf(name string, families []string) string {
	if slices.Contains(families, name) {
		return name
	}
	for _, suf := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := cutSuffix(name, suf); ok && slices.Contains(families, base) {
			return base
		}
	}
	return name
}

func cutSuffix(s, suf string) (string, bool) {
	if len(s) > len(suf) && s[len(s)-len(suf):] == suf {
		return s[:len(s)-len(suf)], true
	}
	return s, false
}

func TestDocsListEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../docs/metrics.md")
	require.NoError(t, err)
	names := gatewayNames(t, New(BuildInfo{}))
	for _, n := range names {
		require.Contains(t, string(doc), "`"+n+"`", "docs/metrics.md must describe %s", n)
	}
	for _, ref := range metricRef.FindAllString(string(doc), -1) {
		require.Contains(t, names, familyOf(ref, names), "docs/metrics.md names %s, which the gateway does not export", ref)
	}
}
