package posim

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Held is a set of signed-in terminals kept idle: what a gateway carries
// between lunch peaks, for measuring memory per terminal.
type Held struct {
	terms      []*simTerm
	ConnErrors int
	FirstError error
}

// Hold dials and signs in the first n POS terminals of the fleet, at
// most parallel at a time, and keeps their connections open until Close.
func Hold(ctx context.Context, fleet *Fleet, n, parallel int) (*Held, error) {
	if err := CheckLoopback(fleet.Addr); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxTerminals || n > len(fleet.POS) {
		return nil, fmt.Errorf("%w: hold %d terminals (configuration has %d, at most %d)", ErrLimit, n, len(fleet.POS), MaxTerminals)
	}
	parallel = max(parallel, 1)
	r := &runner{ctx: ctx, fleet: fleet, addr: fleet.Addr}
	h := &Held{}
	batch := newBatch(time.Now())
	var (
		wg    sync.WaitGroup
		sem   = make(chan struct{}, parallel)
		mu    sync.Mutex
		fails atomic.Int64
	)
	for i := range n {
		pt := fleet.POS[i]
		pt.MAK, pt.PIK, pt.STAN, pt.Batch = nil, nil, 0, batch
		st := &simTerm{run: r, idx: i, term: pt, mix: Mix{KindCard: 1}, total: 1}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := st.connect(ctx, nil); err != nil {
				fails.Add(1)
				mu.Lock()
				if h.FirstError == nil {
					h.FirstError = err
				}
				mu.Unlock()
				return
			}
			mu.Lock()
			h.terms = append(h.terms, st)
			mu.Unlock()
		})
	}
	wg.Wait()
	h.ConnErrors = int(fails.Load())
	if len(h.terms) == 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoTerminal, h.FirstError)
	}
	return h, nil
}

// Len is how many terminals are signed in and held.
func (h *Held) Len() int { return len(h.terms) }

// Close closes every held connection.
func (h *Held) Close() {
	for _, st := range h.terms {
		_ = st.conn.Close()
	}
	h.terms = nil
}
