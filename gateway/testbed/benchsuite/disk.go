package benchsuite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// probePages is how many 4 KiB pages the disk probe writes per commit
// before the first fdatasync: about what bbolt reports writing per group
// commit of the durable purchases at a quarter of the bare echo's rate
// (its TxStats: 30 to 45 pages, most of them scattered over the file).
const probePages = 32

// diskRun is what the disk probe measured: one latency per commit.
type diskRun struct {
	rate    float64 // commits a second asked for
	pages   int
	size    int64 // the file's size
	lat     []time.Duration
	elapsed time.Duration
}

// diskProbe writes what one of the store's group commits writes — pages
// 4 KiB pages at random offsets of a file of size bytes (bbolt writes a
// commit's pages where its freelist has room, all over the file), an
// fdatasync, then one page (bbolt's meta page) and a second fdatasync —
// rate times a second for d, and times each such commit. The gateway is
// idle meanwhile: it is the disk's own latency for the store's pattern, the baseline the purchase latency rests on, as the bare echo is
// for the network. The file is written in full first, so no write lands in
// a hole the filesystem must allocate.
func diskProbe(ctx context.Context, dir string, size int64, pages int, rate float64, d time.Duration) (diskRun, error) {
	const page = 4096
	size = max(size&^(page-1), 2*page)
	run := diskRun{rate: rate, pages: pages, size: size}
	path := filepath.Join(dir, "disk-probe.dat")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return run, err
	}
	defer os.Remove(path)
	defer f.Close()
	zero := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zero)) {
		if _, err := f.WriteAt(zero[:min(int64(len(zero)), size-off)], off); err != nil {
			return run, err
		}
	}
	if err := f.Sync(); err != nil {
		return run, err
	}
	buf := make([]byte, page)
	n := int(size / page)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := 0; ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(due))
		t := time.Now()
		for range pages {
			buf[0]++
			if _, err := f.WriteAt(buf, int64(1+rand.IntN(n-1))*page); err != nil {
				return run, err
			}
		}
		if err := fdatasync(f); err != nil {
			return run, err
		}
		buf[0]++
		if _, err := f.WriteAt(buf, 0); err != nil {
			return run, err
		}
		if err := fdatasync(f); err != nil {
			return run, err
		}
		run.lat = append(run.lat, time.Since(t))
	}
	run.elapsed = time.Since(start)
	slices.Sort(run.lat)
	return run, ctx.Err()
}

// quantile of the sorted latencies.
func (r diskRun) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(q*float64(len(r.lat))))]
}

// over counts the commits that took longer than d.
func (r diskRun) over(d time.Duration) int {
	i, _ := slices.BinarySearch(r.lat, d+1)
	return len(r.lat) - i
}

func (r diskRun) max() time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[len(r.lat)-1]
}

const diskTitle = "The disk alone: the store's commit pattern without the gateway"

// diskFigure reports the probe run right after the paced purchases, at the
// commit rate they made.
func diskFigure(r diskRun, paced string) Figure {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	f := Figure{Title: diskTitle,
		What: fmt.Sprintf("Promise 1 puts an fdatasync between every approval and its answer, so no purchase "+
			"is answered faster than the disk commits, and while one commit stalls every request waiting on it "+
			"stalls too. This probe writes what one of the store's group commits writes — %d 4 KiB pages at "+
			"random offsets of a %s MB file (written in full first), fdatasync, one page, fdatasync — at the rate "+
			"of group commits the paced purchases just made (%s), for as long, with none of the gateway's work "+
			"busy (it is idle between the runs). It is the floor under the purchase latency, as the bare echo is for the network; it has "+
			"no goal of its own.", r.pages, commas(r.size>>20), paced),
		Commands: []string{"go run ./cmd/benchsuite -only \"purchases at 1000\" -out /tmp/BENCHMARKS.md"},
		Status:   NoGoal,
	}
	f.Tables = []Table{{
		Header: []string{"commits", "a second", "p50", "p99", "p99.9", "max", "over 20 ms", "over 50 ms", "over 100 ms"},
		Rows: [][]string{{commas(int64(len(r.lat))), fmt.Sprintf("%.0f", float64(len(r.lat))/r.elapsed.Seconds()),
			ms(r.quantile(0.5)), ms(r.quantile(0.99)), ms(r.quantile(0.999)), ms(r.max()),
			commas(int64(r.over(20 * time.Millisecond))), commas(int64(r.over(50 * time.Millisecond))),
			commas(int64(r.over(100 * time.Millisecond)))}},
		Right: []bool{true, true, true, true, true, true, true, true, true},
	}}
	goal := time.Duration(p99GoalMs * float64(time.Millisecond))
	f.Result = fmt.Sprintf("p99 %s, max **%s**; %d of %s commits over %g ms", ms(r.quantile(0.99)), ms(r.max()),
		r.over(goal), commas(int64(len(r.lat))), p99GoalMs)
	// A stall holds every request arriving during it: those arriving in
	// its first (stall - goal) wait over the goal. 1 % of a paced run's
	// requests arrive within 1 % of its length, so one stall of the goal
	// + 1 % of the run puts 1 % of the run over the goal on its own.
	decisive := goal + r.elapsed/100
	f.Notes = append(f.Notes, fmt.Sprintf("%d of the probe's commits took %s or more. In a paced run as long "+
		"as this one, 1%% of the requests arrive within any %s, so one such stall on its own holds 1%% of them "+
		"past %g ms — the p99 goal — whatever the gateway does; shorter stalls add up with the queue each leaves "+
		"behind.", r.over(decisive-1), ms(decisive.Round(time.Millisecond)), ms((r.elapsed/100).Round(time.Millisecond)), p99GoalMs))
	return f
}

// fdatasync flushes f's data (and the metadata needed to read it back), as
// bbolt does on Linux.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
