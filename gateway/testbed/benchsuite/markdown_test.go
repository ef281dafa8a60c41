package benchsuite

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriteMarkdown(t *testing.T) {
	r := &Report{
		Command: "go run ./cmd/benchsuite -out docs/BENCHMARKS.md",
		Machine: Machine{CPU: "AMD EPYC", Cores: 2, MemGiB: 23.4, Go: "go version go1.26.8 linux/amd64",
			Kernel: "6.1", Load: "1.20 → 2.50", Disk: "virtual disk", Started: time.Date(2026, 11, 26, 2, 45, 0, 0, time.UTC)},
		Shared:   "The machine was shared.",
		Duration: 301 * time.Second,
		Figures: []Figure{
			{Title: "Codec vs moov-io/iso8583", What: "decode and encode of one purchase",
				Commands: []string{"go test -run '^$' -bench Purchase ./codec/iso8583/"},
				Tables: []Table{{Header: []string{"benchmark", "ns/op"}, Right: []bool{false, true},
					Rows: [][]string{{"BenchmarkDecodePurchase", "182"}, {"a|b", "1"}}}},
				Result: "decode 630×", Goal: "≥ 50×", Status: Met, Margin: "met with 1160% to spare"},
			{Title: "Durable purchases at 1,000 terminals", Result: "0.18× of bare echo", Goal: "≥ 0.25",
				Status: Missed, Margin: "missed by 28%", Profile: "flat  flat%\n 10s 50% syscall.Syscall\n",
				Notes: []string{"The journal fsync dominates."},
				Plots: []Plot{{Path: "bench/scaling.png", Alt: "throughput vs terminals"}}},
			{Title: "Forwarder drain", Result: "—", Status: NotMeasured, Notes: []string{"gateway/forward does not exist yet."}},
		},
	}
	var b strings.Builder
	require.NoError(t, WriteMarkdown(&b, r))
	s := b.String()
	for _, want := range []string{
		"# Benchmarks\n",
		"- Command: `go run ./cmd/benchsuite -out docs/BENCHMARKS.md`\n",
		"- Date: 2026-11-26 02:45 (UTC); the run took 5m1s\n",
		"- CPU: AMD EPYC, 2 cores; memory 23 GiB; virtual disk\n",
		"- The machine was shared.\n",
		"| [Codec vs moov-io/iso8583](#codec-vs-moov-ioiso8583) | decode 630× | ≥ 50× | met (with 1160% to spare) |\n",
		"| [Durable purchases at 1,000 terminals](#durable-purchases-at-1000-terminals) | 0.18× of bare echo | ≥ 0.25 | **missed** (by 28%) |\n",
		"| [Forwarder drain](#forwarder-drain) | — | — | not measured |\n",
		"## Codec vs moov-io/iso8583\n\ndecode and encode of one purchase\n\nCommand (from the repository root):\n\n```\ngo test -run '^$' -bench Purchase ./codec/iso8583/\n```\n",
		"| benchmark | ns/op |\n|---|---:|\n| BenchmarkDecodePurchase | 182 |\n| a\\|b | 1 |\n",
		"Result: decode 630×. Goal: ≥ 50× — met, with 1160% to spare.\n",
		"Result: 0.18× of bare echo. Goal: ≥ 0.25 — **missed**, by 28%.\n\nThe journal fsync dominates.\n",
		"```\nflat  flat%\n 10s 50% syscall.Syscall\n```\n",
		"![throughput vs terminals](bench/scaling.png)\n",
		"Result: —. Not measured.\n\ngateway/forward does not exist yet.\n",
	} {
		require.Contains(t, s, want)
	}
	// The header says where the load figures run, and how to rerun one
	// alone.
	flat := strings.Join(strings.Fields(s), " ")
	require.Contains(t, flat, "the durable purchases are measured twice: in one process, and with the gateway (`ecardgw serve`) and the simulator (`posim run`) each in a process of its own")
	require.Contains(t, flat, "`-only \""+SeparateStep+"\"`")
	require.NotContains(t, s, "quick smoke run")
	r.Quick = true
	b.Reset()
	require.NoError(t, WriteMarkdown(&b, r))
	require.Contains(t, b.String(), "quick smoke run")
}

func TestMarginAndFormatting(t *testing.T) {
	cases := []struct {
		got, goal float64
		atLeast   bool
		status    Status
		text      string
	}{
		{0.72, 0.60, true, Met, "met with 20% to spare"},
		{0.45, 0.60, true, Missed, "missed by 25%"},
		{1.01, 1.25, false, Met, "met with 19% to spare"},
		{5.0, 4.0, false, Missed, "missed by 25%"},
		{4898.9, 50, false, Missed, "missed: 98.0× the goal"},
		{4.02, 4, false, Missed, "missed by 0.5%"},
		{1, 0, true, NoGoal, ""},
	}
	for _, c := range cases {
		s, text := margin(c.got, c.goal, c.atLeast)
		require.Equal(t, c.status, s, "%v vs %v", c.got, c.goal)
		require.Equal(t, c.text, text)
	}
	require.Equal(t, "98× the goal", marginText("missed: 98× the goal"))
	require.Equal(t, "by 25%", marginText("missed by 25%"))
	require.Equal(t, "with 1% to spare", marginText("met with 1% to spare"))
	require.Equal(t, "1,234,567", commas(1234567))
	require.Equal(t, "-1,000", commas(-1000))
	require.Equal(t, "999", commas(999))
	require.Equal(t, "630×", ratio(630, 1))
	require.Equal(t, "0.72×", ratio(0.72, 1))
	require.Equal(t, "n/a", ratio(1, 0))
	require.Equal(t, "12,346", num(12345.6))
	require.Equal(t, "a b", wrap("a\n b"))
	long := wrap(strings.Repeat("word ", 40))
	for _, line := range strings.Split(long, "\n") {
		require.LessOrEqual(t, len(line), 76)
	}
}

func TestCPUSplit(t *testing.T) {
	top := "Duration: 2.16s, Total samples = 330ms (15.27%)\nShowing nodes accounting for 90ms, 27.27% of 330ms total\n"
	tags := " posim: Total 70ms of 330ms (21.21%)\n        70ms (21.21%): terminals\n"
	s := cpuSplit(top, tags, 0.5)
	require.Contains(t, s, "0.33 s of CPU in 2.2 s (0.15 of the")
	require.Contains(t, s, "took 21% of it")
	require.Contains(t, s, "50% idle meanwhile: the run is not CPU-bound")
	require.Contains(t, cpuSplit(top, tags, 0.05), "starved of CPU")
	require.NotContains(t, cpuSplit(top, tags, -1), "idle")
	require.Equal(t, "The CPU profile has no samples.", cpuSplit("nothing", tags, 0.5))
	require.NotContains(t, cpuSplit(top, "pprof failed", 0.5), "terminals", "no share when -tags gave none")
	d, total := profileTotals("Duration: 5s, Total samples = 2.21s (40.77%)")
	require.Equal(t, 5.0, d)
	require.InDelta(t, 2.21, total, 1e-9)
}

// The run's command line is shown as it can be pasted back into a shell.
func TestShellJoin(t *testing.T) {
	require.Equal(t, `-quick -only "purchases at 1000 separate,restart" -out /tmp/b.md`,
		ShellJoin([]string{"-quick", "-only", "purchases at 1000 separate,restart", "-out", "/tmp/b.md"}))
	require.Equal(t, `-shared "it's \"busy\"" ""`, ShellJoin([]string{"-shared", `it's "busy"`, ""}))
	require.Equal(t, "", ShellJoin(nil))
}
