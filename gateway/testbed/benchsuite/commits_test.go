package benchsuite

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// A group-commit metric missing from /metrics (renamed) is an error that
// names it, not a figure quietly without its notes.
func TestScrapeCommitsNamesMissingMetric(t *testing.T) {
	page := "ecardgw_store_commit_duration_seconds_bucket{le=\"0.025\"} 8\n" +
		"ecardgw_store_commit_duration_seconds_bucket{le=\"0.05\"} 9\n" +
		"ecardgw_store_commit_duration_seconds_bucket{le=\"0.1\"} 9\n" +
		"ecardgw_store_commit_duration_seconds_bucket{le=\"0.5\"} 10\n" +
		"ecardgw_store_commit_duration_seconds_sum 0.5\n" +
		"ecardgw_store_commit_duration_seconds_count 10\n"
	group := "ecardgw_store_commit_group_size_sum 120\n"
	var gets atomic.Int32
	serve := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			gets.Add(1)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}

	c := scrapeCommits(serve(page + group))
	require.NoError(t, c.err)
	require.True(t, c.ok)
	require.Equal(t, commits{n: 10, seconds: 0.5, group: 120, upTo: map[int]float64{25: 8, 50: 9, 100: 9, 500: 10}, ok: true}, c)
	require.Equal(t, int32(1), gets.Load(), "every value from one read of the page, taken at one moment")

	c = scrapeCommits(serve(page))
	require.False(t, c.ok)
	require.ErrorContains(t, c.err, "ecardgw_store_commit_group_size_sum not on")
}
