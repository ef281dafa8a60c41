package centre

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"ecardgw/gateway/txn"
)

// ErrBreakerOpen is returned, wrapped with txn.ErrCentreUnreachable, for
// a request the circuit breaker did not let through: the engine stands in
// at once.
var ErrBreakerOpen = errors.New("centre: circuit breaker open")

// BreakerState is the circuit breaker's state.
type BreakerState int

// Breaker states.
const (
	BreakerClosed   BreakerState = iota // requests go to the centre
	BreakerOpen                         // the centre failed: requests stand in at once
	BreakerHalfOpen                     // one probe request goes to the centre
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half_open"
	}
	return "open"
}

// Breaker defaults.
const (
	DefaultBreakerFailures = 3
	DefaultBreakerOpenFor  = 5 * time.Second
)

// BreakerOptions tune a Breaker; zero values take the defaults.
type BreakerOptions struct {
	// Failures is how many consecutive failed authorizations (no answer
	// in time, connection refused) open the breaker.
	Failures int
	// OpenFor is how long the breaker stays open before one request
	// probes the centre.
	OpenFor time.Duration
	// Probe, when set, asks the centre something cheap (the blacklist)
	// in the background when the breaker goes half-open, so that no
	// terminal's request waits out a dead centre as the probe: requests
	// keep standing in until the probe answers. Without it the first
	// request after OpenFor is the probe.
	Probe        func(context.Context) error
	ProbeTimeout time.Duration // default 1.5 s
	Logger       *slog.Logger
	OnChange     func(BreakerState) // metrics; called on every change, outside the lock
	Now          func() time.Time
}

// Breaker is a circuit breaker in front of the centre's authorization:
// after Failures consecutive failures it opens and every request stands in
// at once instead of waiting out the centre's timeout; after OpenFor one
// request probes the centre (half-open) and its answer closes the breaker,
// its failure opens it again. It logs one line per change of state.
type Breaker struct {
	next txn.Centre
	opt  BreakerOptions

	mu       sync.Mutex
	state    BreakerState
	fails    int
	openedAt time.Time
}

var _ txn.Centre = (*Breaker)(nil)

// NewBreaker puts a breaker in front of next.
func NewBreaker(next txn.Centre, opt BreakerOptions) *Breaker {
	if opt.Failures <= 0 {
		opt.Failures = DefaultBreakerFailures
	}
	if opt.OpenFor <= 0 {
		opt.OpenFor = DefaultBreakerOpenFor
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.ProbeTimeout <= 0 {
		opt.ProbeTimeout = 1500 * time.Millisecond
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Breaker{next: next, opt: opt}
}

// State is the breaker's current state.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Authorize asks the centre unless the breaker is open.
func (b *Breaker) Authorize(ctx context.Context, r txn.AuthRequest) (txn.AuthResult, error) {
	if !b.allow() {
		return txn.AuthResult{}, fmt.Errorf("%w: %w", txn.ErrCentreUnreachable, ErrBreakerOpen)
	}
	res, err := b.next.Authorize(ctx, r)
	b.record(err == nil || !(errors.Is(err, txn.ErrCentreUnreachable) || errors.Is(err, context.DeadlineExceeded)))
	return res, err
}

// allow reports whether a request may go to the centre; in the open
// state, the first request after OpenFor becomes the probe.
func (b *Breaker) allow() bool {
	b.mu.Lock()
	switch b.state {
	case BreakerClosed:
		b.mu.Unlock()
		return true
	case BreakerOpen:
		if b.opt.Now().Sub(b.openedAt) < b.opt.OpenFor {
			b.mu.Unlock()
			return false
		}
		b.state = BreakerHalfOpen
		b.mu.Unlock()
		b.changed(BreakerHalfOpen)
		if b.opt.Probe != nil {
			go b.probe()
			return false
		}
		return true
	}
	b.mu.Unlock()
	return false // half-open: the probe is out
}

// probe asks the centre in the background while requests stand in.
func (b *Breaker) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), b.opt.ProbeTimeout)
	err := b.opt.Probe(ctx)
	cancel()
	b.record(err == nil)
}

// record counts an authorization's outcome: ok means the centre answered.
func (b *Breaker) record(ok bool) {
	b.mu.Lock()
	from := b.state
	switch {
	case ok:
		b.fails = 0
		b.state = BreakerClosed
	case b.state == BreakerHalfOpen:
		b.state, b.openedAt = BreakerOpen, b.opt.Now()
	default:
		b.fails++
		if b.state == BreakerClosed && b.fails >= b.opt.Failures {
			b.state, b.openedAt = BreakerOpen, b.opt.Now()
		}
	}
	to := b.state
	b.mu.Unlock()
	if to != from {
		b.changed(to)
	}
}

func (b *Breaker) changed(to BreakerState) {
	switch to {
	case BreakerOpen:
		b.opt.Logger.Warn("card centre circuit breaker open: standing in at once without asking the centre",
			"failures", b.opt.Failures, "probe_after", b.opt.OpenFor)
	case BreakerHalfOpen:
		b.opt.Logger.Info("card centre circuit breaker half-open: one request probes the centre")
	case BreakerClosed:
		b.opt.Logger.Info("card centre circuit breaker closed: the centre answers again")
	}
	if b.opt.OnChange != nil {
		b.opt.OnChange(to)
	}
}
