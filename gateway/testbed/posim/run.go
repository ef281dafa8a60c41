package posim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ecardgw/gateway/posclient"
)

// terminalLabels mark the simulated terminals' goroutines in a CPU
// profile (go tool pprof -tagfocus=posim=terminals), so a profile of an
// in-process run can tell the terminals' CPU from the gateway's.
var terminalLabels = pprof.Labels("posim", "terminals")

// runner is one run's shared state.
type runner struct {
	ctx    context.Context
	opts   Options
	fleet  *Fleet
	addr   string
	col    *collector
	budget *atomic.Int64 // nil: no count limit
}

func (r *runner) take() bool { return r.budget == nil || r.budget.Add(-1) >= 0 }

// Run drives opts.Terminals terminals against fleet.Addr and returns the
// result. The context stops it early (the result is still returned).
func Run(ctx context.Context, fleet *Fleet, opts Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := CheckLoopback(fleet.Addr); err != nil {
		return nil, err
	}
	if !o.Raw {
		if err := fleet.check(o.Mix); err != nil {
			return nil, err
		}
	}
	r := &runner{ctx: ctx, opts: o, fleet: fleet, addr: fleet.Addr, col: newCollector()}
	if o.Count > 0 {
		r.budget = new(atomic.Int64)
		r.budget.Store(o.Count)
	}
	terms, syncs, err := r.plan(time.Now())
	if err != nil {
		return nil, err
	}

	setupStart := time.Now()
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		sem         = make(chan struct{}, o.SetupParallel)
		connErrs    atomic.Int64
		firstMu     sync.Mutex
		firstErr    error
		t0, end     time.Time
	)
	for i, st := range terms {
		ready.Add(1)
		done.Go(func() {
			pprof.Do(ctx, terminalLabels, func(context.Context) {
				sem <- struct{}{}
				err := st.connect(ctx, syncs[i])
				<-sem
				if err != nil {
					// Counted before ready.Done: the setup's end reads the
					// count right after ready.Wait.
					connErrs.Add(1)
					firstMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					firstMu.Unlock()
					ready.Done()
					return
				}
				ready.Done()
				defer st.conn.Close()
				<-start
				st.loop(t0, end)
			})
		})
	}
	ready.Wait()
	setup := time.Since(setupStart)
	if int(connErrs.Load()) == len(terms) {
		close(start)
		done.Wait()
		return nil, fmt.Errorf("%w: %w", ErrNoTerminal, firstErr)
	}
	if o.OnStart != nil {
		o.OnStart()
	}
	cpu0 := processCPU()
	t0 = time.Now()
	end = t0.Add(o.Duration)
	r.col.begin(t0)
	close(start)

	stopProgress := r.progress(t0)
	done.Wait()
	elapsed := time.Since(t0)
	cpu := processCPU() - cpu0
	stopProgress()

	res := r.col.result(elapsed)
	res.Addr, res.Started = fleet.Addr, t0.UTC()
	res.ProcessCPU = cpu.Seconds()
	res.Terminals = len(terms) - int(connErrs.Load())
	res.ConnErrors = int(connErrs.Load())
	res.Setup = setup.Seconds()
	res.Mix = o.Mix.Map()
	res.Mode = "closed-loop"
	if o.Think > 0 {
		res.Mode, res.Think = "think", o.Think.Seconds()
		res.Offered = OfferedRate(res.Terminals, o.Think)
	}
	if res.FirstError == "" && firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	return res, nil
}

// processCPU is the user and system CPU time this process has used so far
// (0 where the system does not tell).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runSeq numbers the runs of this process.
var runSeq atomic.Int64

// newBatch is the batch number of a run. Each run's terminals start their
// STANs at 1 again, and a gateway answers a request whose terminal,
// batch, STAN and MTI it has seen with the old answer (a retransmission),
// so every run needs a batch no earlier run used: the clock plus a
// per-process sequence keeps it strictly increasing, even for runs in the
// same second.
func newBatch(now time.Time) uint32 {
	return uint32((now.Unix()+runSeq.Add(1))%999_998) + 1
}

// plan makes the terminals: settlement terminals for the wallet share of
// the mix (they can do nothing else), POS terminals for the rest, and who
// taps which card first.
func (r *runner) plan(now time.Time) ([]*simTerm, [][]*Card, error) {
	o, f := r.opts, r.fleet
	rest := o.Mix.Without(KindWallet)
	nWallet := 0
	if !o.Raw && o.Mix[KindWallet] > 0 {
		nWallet = int(math.Round(float64(o.Terminals) * float64(o.Mix[KindWallet]) / float64(o.Mix.Total())))
		nWallet = max(nWallet, 1)
		if rest.Total() > 0 {
			nWallet = min(nWallet, o.Terminals-1)
		}
		nWallet = min(nWallet, len(f.Settlement), len(f.Cards))
		if nWallet == 0 {
			return nil, nil, fmt.Errorf("%w: no settlement terminal for the wallet loads", ErrFleet)
		}
	}
	nPOS := o.Terminals - nWallet
	if rest.Total() == 0 {
		nPOS = 0
	}
	echoOnly := rest.Total() == rest[KindEcho]
	if !o.Raw && !echoOnly && nPOS > len(f.POS) {
		return nil, nil, fmt.Errorf("%w: %d POS terminals wanted, the configuration has %d", ErrFleet, nPOS, len(f.POS))
	}
	batch := newBatch(now)
	base := counterBase(now)
	for _, c := range f.Cards {
		c.mu.Lock()
		if !c.wallet.started {
			c.wallet.balance, c.wallet.counter, c.wallet.started = 0, base, true
		}
		c.mu.Unlock()
	}
	terms := make([]*simTerm, 0, nPOS+nWallet)
	newTerm := func(idx int, pt posclient.Terminal, mix Mix) *simTerm {
		pt.MAK, pt.PIK, pt.STAN, pt.Batch = nil, nil, 0, batch
		return &simTerm{run: r, idx: idx, term: pt, raw: o.Raw, mix: mix, total: mix.Total(),
			cards: f.Cards, next: idx, rng: rand.New(rand.NewPCG(o.Seed, uint64(idx)))}
	}
	for i := range nPOS {
		var pt posclient.Terminal
		switch {
		case i < len(f.POS):
			pt = f.POS[i]
		default: // echo needs no configured terminal
			pt = posclient.Terminal{ID: fmt.Sprintf("E%07d", i), Merchant: "M00000000000000"}
		}
		terms = append(terms, newTerm(i, pt, rest))
	}
	for w := range nWallet {
		st := newTerm(nPOS+w, f.Settlement[w], Mix{KindWallet: 1})
		for j := w; j < len(f.Cards); j += nWallet {
			st.walletCards = append(st.walletCards, f.Cards[j])
		}
		terms = append(terms, st)
	}
	syncs := make([][]*Card, len(terms))
	if !o.Raw && (o.Mix[KindCode] > 0 || o.Mix[KindWallet] > 0) && nPOS > 0 {
		for j, c := range f.Cards {
			syncs[j%nPOS] = append(syncs[j%nPOS], c)
		}
	}
	return terms, syncs, nil
}
