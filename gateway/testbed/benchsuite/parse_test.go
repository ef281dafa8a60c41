package benchsuite

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func parseFile(t *testing.T, name string) ([]Bench, Header) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	require.NoError(t, err)
	defer f.Close()
	b, h, err := ParseBench(f)
	require.NoError(t, err)
	return b, h
}

func TestParseBench(t *testing.T) {
	cases := []struct {
		file    string
		name    string
		procs   int
		n       int64
		metrics []Metric
	}{
		{"campuscode.txt", "BenchmarkPairedEd25519", 2, 200,
			[]Metric{{119397, "ns/op"}, {1.011, "cached/raw"}, {0, "B/op"}, {0, "allocs/op"}}},
		{"campuscode.txt", "BenchmarkVerifyEd25519Cached", 2, 16671,
			[]Metric{{71249, "ns/op"}, {0, "B/op"}, {0, "allocs/op"}}},
		{"store.txt", "BenchmarkJournalAppend", 2, 30000,
			[]Metric{{79927, "ns/op"}, {135, "fns/commit"}, {13008, "B/op"}, {42, "allocs/op"}}},
		{"store.txt", "BenchmarkJournalAppendSerial", 1, 600,
			[]Metric{{3380074, "ns/op"}, {69974, "B/op"}, {192, "allocs/op"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			benches, h := parseFile(t, c.file)
			require.Equal(t, "AMD EPYC", h.CPU)
			require.Equal(t, "linux", h.GOOS)
			var got *Bench
			for i := range benches {
				if benches[i].Name == c.name {
					got = &benches[i]
					break
				}
			}
			require.NotNil(t, got)
			require.Equal(t, c.procs, got.Procs)
			require.Equal(t, c.n, got.N)
			require.Equal(t, c.metrics, got.Metrics)
			require.True(t, strings.HasPrefix(got.Pkg, "ecardgw/"))
		})
	}
}

func TestMedianAndValues(t *testing.T) {
	benches, _ := parseFile(t, "campuscode.txt")
	m, n, err := Median(benches, "BenchmarkPairedEd25519", "cached/raw")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.InDelta(t, 1.012, m, 1e-9)
	m, n, err = Median(benches, "BenchmarkVerifyEd25519Cached", "ns/op")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 71249.0, m)
	require.Equal(t, []float64{1.009, 1.008}, Values(benches, "BenchmarkPairedSM2", "cached/raw"))
	_, _, err = Median(benches, "BenchmarkNope", "ns/op")
	require.ErrorIs(t, err, ErrMissing)
}

func TestParseBenchRejects(t *testing.T) {
	_, _, err := ParseBench(strings.NewReader("PASS\nok  \tx\t0.1s\n"))
	require.ErrorIs(t, err, ErrParse)
	// A malformed line is skipped, not misread.
	b, _, err := ParseBench(strings.NewReader("BenchmarkA-2 10 5 ns/op extra\nBenchmarkB 7 3 ns/op\n"))
	require.NoError(t, err)
	require.Len(t, b, 1)
	require.Equal(t, "BenchmarkB", b[0].Name)
	require.Equal(t, 1, b[0].Procs)
}

func TestCumOf(t *testing.T) {
	top := `Showing nodes accounting for 1.16s, 22.14% of 5.24s total
      flat  flat%   sum%        cum   cum%
         0     0%     0%      2.94s 56.11%  ecardgw/store.(*DB).committer
         0     0%     0%      1.63s 31.11%  go.etcd.io/bbolt.(*Tx).Commit
     0.02s  0.38% 20.42%      380ms  7.25%  ecardgw/gateway/txn.(*call).finish (inline)
         0     0% 86.17%   1322.30s 76.53%  ecardgw/store.(*DB).invoke
`
	got := cumOf(top, fnCommitter, fnBoltCommit, fnFinish, fnInvoke, "ecardgw/store.(*DB).absent")
	require.Equal(t, map[string]float64{fnCommitter: 2.94, fnBoltCommit: 1.63, fnFinish: 0.38, fnInvoke: 1322.30}, got)
}

func TestCommitLoad(t *testing.T) {
	c0 := commits{n: 100, seconds: 1, group: 1000, ok: true}
	c1 := commits{n: 1100, seconds: 9, group: 91000, ok: true}
	cl := commitLoadOf(c0, c1, 10)
	require.True(t, cl.ok)
	require.InDelta(t, 0.8, cl.busy, 1e-9)
	require.InDelta(t, 90, cl.group, 1e-9)
	require.InDelta(t, 8, cl.ms, 1e-9)
	require.False(t, commitLoadOf(commits{}, c1, 10).ok, "no scrape before the run")
	require.False(t, commitLoadOf(c1, c1, 10).ok, "no commits")
	require.Contains(t, c1.since(c0, 10), "1,000 group commits (100 a second), each 8.0 ms")
	require.Empty(t, c1.since(commits{}, 10))
}
