package posim

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
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
