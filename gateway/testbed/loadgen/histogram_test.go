package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBucketsRoundTrip(t *testing.T) {
	// Every value lands in a bucket whose upper edge is at or above it and
	// within the promised relative precision.
	for _, v := range []int64{0, 1, 63, 64, 127, 128, 129, 1000, 999_999, 1 << 30, 1<<40 - 1} {
		i := bucketOf(v)
		hi := bucketHigh(i)
		require.GreaterOrEqual(t, hi, v, "v=%d", v)
		require.LessOrEqual(t, float64(hi-v), float64(v)/subCount+1, "v=%d", v)
		if i > 0 {
			require.Less(t, bucketHigh(i-1), v, "v=%d lands too high", v)
		}
	}
	require.Equal(t, nBuckets-1, bucketOf(1<<62))
}

func TestQuantilesMatchExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]int64, 100_000)
	for i := range vals {
		// Log-uniform from 10 µs to 100 ms, like real latencies.
		vals[i] = int64(10_000 * math.Pow(10, r.Float64()*4))
		h.Record(time.Duration(vals[i]))
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := int64(h.Quantile(q))
		require.InEpsilon(t, exact, got, 2.0/subCount, "q=%v", q)
	}
	require.Equal(t, time.Duration(vals[0]), h.Min())
	require.Equal(t, time.Duration(vals[len(vals)-1]), h.Max())
	require.Equal(t, h.Max(), h.Quantile(1))
	require.Equal(t, uint64(len(vals)), h.Count())
}

func TestMergeAndEmpty(t *testing.T) {
	var a, b, all Histogram
	require.Zero(t, a.Quantile(0.5))
	require.Zero(t, a.Mean())
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	a.Merge(&Histogram{})
	require.Equal(t, all, a)
	require.Equal(t, 500*time.Microsecond-time.Microsecond/2, a.Mean())
	a.Reset()
	require.Zero(t, a.Count())
}

func TestRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	allocs := testing.AllocsPerRun(1000, func() { h.Record(1234 * time.Microsecond) })
	require.Zero(t, allocs)
}

func BenchmarkRecord(b *testing.B) {
	b.ReportAllocs()
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xFFFFF) * time.Microsecond)
	}
}
