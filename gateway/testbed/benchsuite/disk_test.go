package benchsuite

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDiskProbeWritesAtTheRateAskedAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	r, err := diskProbe(context.Background(), dir, 1<<20, 4, 200, 300*time.Millisecond)
	require.NoError(t, err)
	// 200 a second for 0.3 s, paced from the start: 60 commits, fewer
	// only if the disk could not keep up.
	require.LessOrEqual(t, len(r.lat), 60)
	require.GreaterOrEqual(t, len(r.lat), 20)
	require.True(t, slices.IsSorted(r.lat))
	require.Positive(t, r.lat[0])
	require.Equal(t, int64(1<<20), r.size)
	require.GreaterOrEqual(t, r.elapsed, time.Duration(len(r.lat)-1)*5*time.Millisecond)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left, "the probe's file is removed")
}

func TestDiskProbeStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := diskProbe(ctx, t.TempDir(), 1<<20, 1, 100, time.Minute)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 10*time.Second)
}

func TestDiskRunStatistics(t *testing.T) {
	var r diskRun
	for i := 1; i <= 100; i++ {
		r.lat = append(r.lat, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 51*time.Millisecond, r.quantile(0.5))
	require.Equal(t, 100*time.Millisecond, r.quantile(0.99))
	require.Equal(t, 100*time.Millisecond, r.max())
	require.Equal(t, 50, r.over(50*time.Millisecond), "51..100 ms")
	require.Equal(t, 0, r.over(100*time.Millisecond))
	require.Zero(t, diskRun{}.quantile(0.99))
	require.Zero(t, diskRun{}.max())
}

func TestDiskFigureCountsTheStallsThatDecideAP99(t *testing.T) {
	// In a 10 s run, 1 % of the requests arrive within 100 ms: a stall of
	// 120 ms or more holds 1 % of them past the 20 ms goal on its own.
	r := diskRun{rate: 500, pages: 32, size: 64 << 20, elapsed: 10 * time.Second,
		lat: []time.Duration{time.Millisecond, 2 * time.Millisecond, 21 * time.Millisecond,
			119 * time.Millisecond, 120 * time.Millisecond, 210 * time.Millisecond}}
	f := diskFigure(r, "500 a second")
	require.Equal(t, NoGoal, f.Status)
	require.Contains(t, f.Result, "max **210.0 ms**")
	require.Contains(t, f.Result, "4 of 6 commits over 20 ms")
	require.Contains(t, strings.Join(f.Notes, " "), "2 of the probe's commits took 120.0 ms or more")
	require.Contains(t, strings.Join(f.Notes, " "), "past 20 ms — the p99 goal —")
	require.Contains(t, f.What, "(500 a second)")
	require.Equal(t, []string{"6", "1", "119.0 ms", "210.0 ms", "210.0 ms", "210.0 ms", "4", "3", "3"}, f.Tables[0].Rows[0])
}

func TestCommitsOver50msAndRateBetweenScrapes(t *testing.T) {
	c0 := commits{n: 100, upTo: map[int]float64{50: 100, 100: 100, 500: 100}, ok: true}
	c1 := commits{n: 1100, upTo: map[int]float64{50: 1093, 100: 1098, 500: 1100}, ok: true}
	paced := func(c0 commits) string { return c1.slow(c0, "the paced run", 50, 100, "") }
	require.Contains(t, paced(c0), "Of the 1,000 group commits during the paced run, 7 took over 50 ms and 2 over 100 ms")
	require.InDelta(t, 100, c1.rate(c0, 10), 1e-9)
	require.Empty(t, paced(commits{}), "an unread scrape says nothing")
	require.Zero(t, c1.rate(commits{}, 10))
	require.Zero(t, c1.rate(c0, 0))
}
