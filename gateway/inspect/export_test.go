package inspect

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// seqs exports g from path as CSV and returns the sequence numbers.
func seqs(t *testing.T, path string, g Range) []uint64 {
	t.Helper()
	db := openStore(t, path)
	var buf bytes.Buffer
	w := NewWriter(&buf, FormatCSV)
	n, err := Export(db, g, w)
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	require.NoError(t, db.Close())
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, n+1)
	out := []uint64{}
	for _, row := range rows[1:] {
		s, err := strconv.ParseUint(row[0], 10, 64)
		require.NoError(t, err)
		out = append(out, s)
	}
	return out
}

func span(from, to uint64) []uint64 {
	out := []uint64{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// 1300 records span three pages.
func TestExportRanges(t *testing.T) {
	path := newStore(t, 1300)
	sec := func(i int) Bound { return Bound{Time: t0.Add(time.Duration(i-1) * time.Second)} }
	cases := map[string]struct {
		g    Range
		want []uint64
	}{
		"all":                  {Range{}, span(1, 1300)},
		"since seq":            {Range{Since: Bound{Seq: 1000}}, span(1000, 1300)},
		"since seq past end":   {Range{Since: Bound{Seq: 1301}}, span(1, 0)},
		"until seq":            {Range{Until: Bound{Seq: 513}}, span(1, 512)},
		"seq window":           {Range{Since: Bound{Seq: 510}, Until: Bound{Seq: 515}}, span(510, 514)},
		"time window":          {Range{Since: sec(600), Until: sec(1100)}, span(600, 1099)},
		"since seq until time": {Range{Since: Bound{Seq: 1290}, Until: sec(1295)}, span(1290, 1294)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, c.want, seqs(t, path, c.g))
		})
	}
}

// Chained exports cover the journal once.
func TestExportsChain(t *testing.T) {
	path := newStore(t, 40)
	a := seqs(t, path, Range{Until: Bound{Seq: 17}})
	b := seqs(t, path, Range{Since: Bound{Seq: 17}})
	require.Equal(t, span(1, 40), append(a, b...))
}

// Records journaled while an export runs are not in it: an export is
// the journal as it was when it started.
func TestExportStopsAtStartLength(t *testing.T) {
	db := openStore(t, newStore(t, 600))
	var buf bytes.Buffer
	w := NewWriter(&grower{w: &buf, grow: func() { appendRecords(t, db, 601, 700) }}, FormatCSV)
	n, err := Export(db, Range{}, w)
	require.NoError(t, err)
	require.Equal(t, 600, n)
}

// grower runs grow on its first write (during the export).
type grower struct {
	w    *bytes.Buffer
	grow func()
}

func (g *grower) Write(p []byte) (int, error) {
	if g.grow != nil {
		g.grow()
		g.grow = nil
	}
	return g.w.Write(p)
}

func TestTail(t *testing.T) {
	db := openStore(t, newStore(t, 30))
	recs, err := Tail(db, 5)
	require.NoError(t, err)
	require.Len(t, recs, 5)
	for i, r := range recs {
		require.Equal(t, uint64(26+i), r.Seq, "oldest first")
	}
}
