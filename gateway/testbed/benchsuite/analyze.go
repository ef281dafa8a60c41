package benchsuite

import (
	"context"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// cumOf reads the cumulative seconds of the named functions from a
// go tool pprof -top -cum listing ("0  0%  0%  2.94s 56.11%  name"). A
// function the listing does not show had no samples: zero. That a name
// still names a function is checkSymbols' job.
func cumOf(top string, names ...string) map[string]float64 {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		name := strings.TrimSuffix(strings.Join(f[5:], " "), " (inline)")
		if !want[name] {
			continue
		}
		if d, err := time.ParseDuration(f[3]); err == nil {
			out[name] = d.Seconds()
		}
	}
	return out
}

// The functions committerNote reads from the profiles, by the names pprof
// and the symbol table give them. A rename in the code must be a rename
// here: checkSymbols fails the figure naming a function this binary no
// longer has, and TestProfiledFunctionsExist fails go test first.
const (
	fnCommitter  = "ecardgw/store.(*DB).committer"
	fnBoltCommit = "go.etcd.io/bbolt.(*Tx).Commit"
	fnInvoke     = "ecardgw/store.(*DB).invoke"
	fnFinish     = "ecardgw/gateway/txn.(*call).finish"
)

var profiledFns = []string{fnCommitter, fnBoltCommit, fnInvoke, fnFinish}

// checkSymbols fails, naming them, for the functions that the running
// executable does not contain: the profiles committerNote reads are of
// this process, so a function missing here was renamed or removed (or is
// now inlined everywhere), and its share of a profile would otherwise
// read as zero.
func checkSymbols(names ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSymbol, err)
	}
	have, err := funcSymbols(exe)
	if err != nil {
		return err
	}
	return missingSymbols(have, names...)
}

// funcSymbols lists the functions of a Go executable from its function
// table (.gopclntab, which go run and go test keep when they strip the
// symbol table, and from which pprof names the frames of this process).
func funcSymbols(path string) (map[string]bool, error) {
	fail := func(err error) error { return fmt.Errorf("%w: reading the functions of %s: %v", ErrSymbol, path, err) }
	f, err := elf.Open(path)
	if err != nil {
		return nil, fail(err)
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil, fail(fmt.Errorf("no .gopclntab or .text section"))
	}
	data, err := pcln.Data()
	if err != nil {
		return nil, fail(err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil, fail(err)
	}
	have := make(map[string]bool, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		have[fn.Name] = true
	}
	return have, nil
}

// missingSymbols is ErrSymbol naming each of names that have lacks.
func missingSymbols(have map[string]bool, names ...string) error {
	var missing []string
	for _, n := range names {
		if !have[n] && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s (renamed, or inlined everywhere? update the fn constants in gateway/testbed/benchsuite/analyze.go)",
		ErrSymbol, strings.Join(missing, ", "))
}

// commitLoad is the group commits of a run from the gateway's metrics.
type commitLoad struct {
	busy  float64 // share of the run's time the committer spent in commits
	group float64 // approvals per commit
	ms    float64 // mean commit time
	ok    bool
}

func commitLoadOf(c0, c1 commits, runSeconds float64) commitLoad {
	n := c1.n - c0.n
	if !c0.ok || !c1.ok || n <= 0 || runSeconds <= 0 {
		return commitLoad{}
	}
	sec := c1.seconds - c0.seconds
	return commitLoad{busy: sec / runSeconds, group: (c1.group - c0.group) / n, ms: 1000 * sec / n, ok: true}
}

// committerNote explains a durable-purchase figure from its CPU profile
// and the gateway's commit metrics: how busy the store's group commit is
// and what one approval costs inside it.
// A profile it cannot read, or a function it looks for that is no longer
// in the gateway, is an error: the figure fails rather than lose the note
// or show a zero.
func (s *Suite) committerNote(ctx context.Context, cpuProf string, approvals int64, runSeconds float64,
	cl commitLoad, target float64) (string, error) {
	if approvals <= 0 || runSeconds <= 0 {
		return "", nil
	}
	if err := checkSymbols(profiledFns...); err != nil {
		return "", err
	}
	top, err := PprofTop(ctx, s.GoBin, s.Root, cpuProf, "-cum", "-nodecount=400", `-focus=store\.\(\*DB\)\.committer`)
	if err != nil {
		return "", err
	}
	c := cumOf(top, fnCommitter, fnBoltCommit, fnInvoke, fnFinish)
	if c[fnCommitter] == 0 {
		return "", fmt.Errorf("%w: no samples of %s in %s", ErrSymbol, fnCommitter, cpuProf)
	}
	us := func(sec float64) float64 { return sec / float64(approvals) * 1e6 }
	note := "Where the time goes: the store's committer goroutine runs every `Update` function of a group one " +
		"after another inside the one bbolt write transaction, then commits it with one fdatasync; the next " +
		"group waits."
	if cl.ok {
		note += fmt.Sprintf(" Over the run it was in a commit %.0f%% of the time.", 100*min(cl.busy, 1))
	}
	note += fmt.Sprintf(" On CPU it spent %.0f µs per approval (profile of %.1f s): the engine's functions inside "+
		"the transaction %.0f µs (building the answer in `txn.(*call).finish` %.0f µs of them) and bbolt's commit "+
		"(spilling and writing the dirty pages) %.0f µs; the rest of each commit is the fdatasync.",
		us(c[fnCommitter]), runSeconds, us(c[fnInvoke]), us(c[fnFinish]), us(c[fnBoltCommit]))
	if target > 0 && cl.ok && cl.busy > 0.8 {
		note += fmt.Sprintf(" With the committer busy all the time, purchases/s = approvals per group ÷ commit "+
			"time. Reaching the goal (%s/s) takes groups of %.0f at today's %.1f ms, or commits of %.1f ms at "+
			"today's groups of %.0f: a group carries every request that arrived while the previous one "+
			"committed (no worker waits on a commit), so less work per approval inside the transaction "+
			"(the B+tree operations, the answer's encoding and MAC) shortens each commit and the fdatasync "+
			"is spread over the approvals that arrive meanwhile. That code is in "+
			"`gateway/server`, `store` and `gateway/txn`, not in this suite.",
			num(target), target*cl.ms/1000, cl.ms, 1000*cl.group/target, cl.group)
	}
	return note, nil
}
