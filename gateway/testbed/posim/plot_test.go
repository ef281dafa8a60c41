package posim

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/vg/draw"
)

func decodePNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 100)
}

func TestPlotsDecode(t *testing.T) {
	dir := t.TempDir()
	r := &Result{Timeline: []Sample{{At: 1, Rate: 900, P50: 1.2, P99: 7}, {At: 2, Rate: 1000, P50: 1.1, P99: 9}, {At: 3, Rate: 950, P50: 1.3, P99: 8}}}
	lat := filepath.Join(dir, "lat.png")
	require.NoError(t, PlotTimeline(r, "latency", lat))
	decodePNG(t, lat)
	rate := filepath.Join(dir, "rate.png")
	require.NoError(t, PlotRate(r, "rate", rate))
	decodePNG(t, rate)

	sc := filepath.Join(dir, "scaling.png")
	require.NoError(t, PlotScaling([]Series{
		{Name: "gateway", Points: []ScalePoint{{100, 20000}, {1000, 15000}, {5000, 9000}}},
		{Name: "baseline", Points: []ScalePoint{{100, 60000}, {1000, 50000}}},
	}, "throughput", sc))
	decodePNG(t, sc)

	require.ErrorIs(t, PlotTimeline(&Result{}, "x", filepath.Join(dir, "none.png")), ErrLimit)
	require.ErrorIs(t, PlotScaling(nil, "x", filepath.Join(dir, "none.png")), ErrLimit)
	require.Equal(t, "a/b-scaling.png", scalingPath("a/b.png"))
}

func TestSummaryShowsHistogramAndCodes(t *testing.T) {
	c := newCollector()
	c.record(KindCard, 300_000, "00", nil)   // 0.3 ms
	c.record(KindCard, 3_000_000, "51", nil) // 3 ms
	c.record(KindCode, 30_000_000, "00", nil)
	c.record(KindCode, 0, "", ErrAnswer)
	r := c.result(2e9)
	require.Equal(t, int64(4), r.Count)
	require.Equal(t, int64(2), r.Approved)
	require.Equal(t, int64(1), r.Declined)
	require.Equal(t, int64(1), r.Errors)
	require.InDelta(t, 1.5, r.Throughput, 1e-9)
	require.Equal(t, map[string]int64{"00": 1, "51": 1}, r.Kinds["card"].RCs)
	var b lockedBuffer
	r.Summary(&b)
	s := b.String()
	require.Contains(t, s, "0.2–0.5 ms")
	require.Contains(t, s, "20–50 ms")
	require.Contains(t, s, "00:1 51:1")
	require.Contains(t, s, "first error: posim: bad answer")
}

// TestProgressLineShowsElapsedOfTotal: the live line says how far the run
// is: elapsed of total time and the share done, by count with --count.
func TestProgressLineShowsElapsedOfTotal(t *testing.T) {
	s := Sample{At: 12, Rate: 5000, P50: 1.2, P99: 7}
	line := progressLine(s, 60000, 3, time.Minute, 0)
	require.Contains(t, line, "12s/1m0s  20%")
	require.Contains(t, line, "answers     60000 ")
	require.Contains(t, line, "p99     7.00 ms")
	line = progressLine(s, 45000, 0, 10*time.Minute, 90000)
	require.Contains(t, line, "12s/10m0s  50%", "a count run is as far as its count")
	require.Contains(t, line, "answers     45000/90000")
}

// TestPlotsHaveGoalsLegendsBesideAndIntegerTicks: goal lines are drawn and
// named; the legend is drawn beside the plot, never inside it (the plot's
// own legend is empty); whole-number axes are labelled without decimals.
func TestPlotsHaveGoalsLegendsBesideAndIntegerTicks(t *testing.T) {
	r := &Result{Timeline: []Sample{{At: 1, Rate: 4990, P50: 1.2, P99: 7}, {At: 2, Rate: 5000, P50: 1.1, P99: 60}}}
	f, err := timelineFigure(r, "latency", []Goal{{Label: "goal: p99 ≤ 50 ms", Value: 50}})
	require.NoError(t, err)
	require.Equal(t, []string{"p50", "p99", "goal: p99 ≤ 50 ms"}, f.names)
	require.Zero(t, f.p.Legend.Rectangle(draw.Canvas{}).Size().Y, "nothing drawn over the data")

	f, err = rateFigure(r, "rate", []Goal{{Label: "offered 5000/s", Value: 5000}})
	require.NoError(t, err)
	require.GreaterOrEqual(t, f.p.Y.Max, 5000.0, "the goal is on the axis")
	for _, tk := range f.p.Y.Tick.Marker.Ticks(0, 5000) {
		if tk.Label != "" {
			require.NotContains(t, tk.Label, ".", "whole numbers without decimals")
		}
	}
	labels := ""
	for _, tk := range (intTicks{}).Ticks(0, 0.5) {
		labels += tk.Label + " "
	}
	require.Contains(t, labels, "0.25", "fractions keep their decimals")

	dir := t.TempDir()
	path := filepath.Join(dir, "rate.png")
	require.NoError(t, PlotRate(r, "rate", path, Goal{Label: "offered", Value: 5000}))
	decodePNG(t, path)
}

// TestScalingBarsForTwoPoints: two terminal counts make a bar chart; more
// make lines.
func TestScalingBarsForTwoPoints(t *testing.T) {
	two := []Series{
		{Name: "bare echo", Points: []ScalePoint{{100, 120000}, {1000, 118000}}},
		{Name: "gateway", Points: []ScalePoint{{100, 30000}, {1000, 31000}}},
	}
	f, err := scalingFigure(two, "throughput", nil)
	require.NoError(t, err)
	require.True(t, f.bars)
	require.Equal(t, []string{"bare echo", "gateway"}, f.names)
	path := filepath.Join(t.TempDir(), "bars.png")
	require.NoError(t, PlotScaling(two, "throughput", path))
	decodePNG(t, path)

	three := []Series{{Name: "gateway", Points: []ScalePoint{{100, 30000}, {1000, 31000}, {5000, 28000}}}}
	f, err = scalingFigure(three, "throughput", nil)
	require.NoError(t, err)
	require.False(t, f.bars)
}
