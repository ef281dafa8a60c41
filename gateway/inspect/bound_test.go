package inspect

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseBound(t *testing.T) {
	cases := []struct {
		in   string
		want Bound
	}{
		{"", Bound{}},
		{"1042", Bound{Seq: 1042}},
		{"2026-11-25T16:00:00Z", Bound{Time: time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)}},
		{"2026-11-26T00:00:00+08:00", Bound{Time: time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)}},
		{"2026-11-25T16:00:00.25Z", Bound{Time: time.Date(2026, 11, 25, 16, 0, 0, 25e7, time.UTC)}},
		{"2026-11-25", Bound{Time: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseBound(c.in)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			require.Equal(t, time.UTC, got.Time.Location())
		})
	}
	for _, bad := range []string{"-1", "yesterday", "2026-13-01", "12e3", "2026-11-25 16:00"} {
		_, err := ParseBound(bad)
		require.ErrorIs(t, err, ErrBadBound, bad)
	}
}

func TestRangeIsHalfOpen(t *testing.T) {
	r5 := record(5)
	r5.Seq = 5
	in := func(g Range) bool { return g.Contains(r5) }
	require.True(t, in(Range{}))
	require.True(t, in(Range{Since: Bound{Seq: 5}}))
	require.False(t, in(Range{Since: Bound{Seq: 6}}))
	require.False(t, in(Range{Until: Bound{Seq: 5}}))
	require.True(t, in(Range{Until: Bound{Seq: 6}}))
	require.True(t, in(Range{Since: Bound{Time: r5.Time}}))
	require.False(t, in(Range{Until: Bound{Time: r5.Time}}))
	require.False(t, in(Range{Since: Bound{Time: r5.Time.Add(time.Nanosecond)}}))
}

func TestQueryRoundTrip(t *testing.T) {
	q := Query{Range: Range{Since: Bound{Seq: 10}, Until: Bound{Time: t0}}, Format: FormatJSON}
	got, err := ParseQuery(q.Values())
	require.NoError(t, err)
	require.Equal(t, q, got)

	q = Query{Tail: 20, Format: FormatText}
	got, err = ParseQuery(q.Values())
	require.NoError(t, err)
	require.Equal(t, q, got)

	got, err = ParseQuery(url.Values{})
	require.NoError(t, err)
	require.Equal(t, Query{Format: FormatCSV}, got, "csv by default")

	for _, bad := range []url.Values{{"tail": {"0"}}, {"tail": {"1001"}}, {"tail": {"x"}}, {"since": {"x"}},
		{"until": {"x"}}, {"format": {"xml"}}} {
		_, err := ParseQuery(bad)
		require.Error(t, err, bad.Encode())
	}
}
