package posim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCombineEqualsOneRun(t *testing.T) {
	a, b, all := newCollector(), newCollector(), newCollector()
	for i := range 1000 {
		d := time.Duration(i+1) * 10 * time.Microsecond
		c := a
		if i%3 == 0 {
			c = b
		}
		rc := "00"
		if i%10 == 0 {
			rc = "51"
		}
		c.record(KindCard, d, rc, nil)
		all.record(KindCard, d, rc, nil)
	}
	b.record(KindCode, 0, "", ErrAnswer)
	all.record(KindCode, 0, "", ErrAnswer)
	ra, rb := a.result(time.Second), b.result(3*time.Second)
	ra.Timeline = []Sample{{At: 1, Answers: 5}}
	rb.Timeline = []Sample{{At: 1, Answers: 7}}
	ra.ProcessCPU, rb.ProcessCPU = 0.5, 1.25
	got := Combine(ra, rb)
	want := all.result(4 * time.Second)

	require.Equal(t, want.Latency, got.Latency, "quantiles from the merged histogram")
	require.Equal(t, want.Histogram, got.Histogram)
	require.Equal(t, want.Count, got.Count)
	require.Equal(t, want.Approved, got.Approved)
	require.Equal(t, want.Declined, got.Declined)
	require.Equal(t, want.Errors, got.Errors)
	require.InDelta(t, want.Throughput, got.Throughput, 1e-9)
	require.Equal(t, want.Kinds["card"].RCs, got.Kinds["card"].RCs)
	require.Equal(t, []Sample{{At: 1, Answers: 5}, {At: 2, Answers: 7}}, got.Timeline)
	require.InDelta(t, 1.75, got.ProcessCPU, 1e-9, "the halves' CPU adds up")
	require.Nil(t, Combine())
}
