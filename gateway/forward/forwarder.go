package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"ecardgw/gateway/centre"
	"ecardgw/metrics"
	"ecardgw/store"
)

// Defaults of Options.
const (
	DefaultBatch      = 100
	DefaultBackoffMin = 200 * time.Millisecond
	DefaultBackoffMax = 30 * time.Second
	DefaultPoll       = time.Second
	DefaultTimeout    = 30 * time.Second
)

// Options configure a Forwarder.
type Options struct {
	DB   *store.DB
	Sink Sink
	// Batch is the most records per delivery (default 100, at most
	// centre.MaxDelivery).
	Batch int
	// BackoffMin and BackoffMax bound the wait after a failed attempt; it
	// doubles per failure, with jitter (defaults 200 ms and 30 s).
	BackoffMin, BackoffMax time.Duration
	// Poll is how often the outbox is looked at without a Kick (1 s).
	Poll time.Duration
	// Timeout bounds one delivery attempt (30 s).
	Timeout time.Duration
	// Position: "" consumes the store's outbox (the primary sink). A
	// name keeps an own position in the journal under that name, for a
	// second sink fed as well as the first.
	Position string
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
}

// Forwarder delivers the journal to one sink. Run (or Flush) must not be
// called again while one is running; Kick and Pending may be called from
// anywhere.
type Forwarder struct {
	o    Options
	kick chan struct{}
	// single > 0: a batch was refused whole; send that many records one
	// at a time to find the one to move aside.
	single int
}

// New builds a forwarder; Run starts it.
func New(o Options) *Forwarder {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	o.Batch = min(o.Batch, centre.MaxDelivery)
	if o.BackoffMin <= 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(DefaultBackoffMax, o.BackoffMin)
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Forwarder{o: o, kick: make(chan struct{}, 1)}
}

// Kick wakes the forwarder after new records were journaled. It never
// blocks.
func (f *Forwarder) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends (then it returns nil) or the store fails
// (then it returns that error). Sink failures are retried with backoff.
func (f *Forwarder) Run(ctx context.Context) error {
	if f.o.DB == nil || f.o.Sink == nil {
		return fmt.Errorf("%w: DB and Sink are required", ErrBadOptions)
	}
	fails := 0
	for ctx.Err() == nil {
		n, err := f.step(ctx)
		switch {
		case errors.Is(err, ErrSink):
			if ctx.Err() != nil {
				return nil
			}
			fails++
			f.o.Metrics.ForwarderRetry(f.o.Sink.Metric())
			d := f.backoff(fails)
			f.o.Logger.Warn("forward: delivery failed, will retry",
				"sink", f.o.Sink.Name(), "attempt", fails, "retry_in", d, "err", err)
			f.sleep(ctx, d, false)
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case n == 0:
			fails = 0
			f.sleep(ctx, f.o.Poll, true)
		default:
			fails = 0
		}
	}
	return nil
}

// Flush delivers until nothing is left or an attempt fails, without
// backoff: for tests, tools and a last push at shutdown.
func (f *Forwarder) Flush(ctx context.Context) error {
	for {
		n, err := f.step(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// backoff is min·2^(fails-1) capped at max, jittered into [d/2, d] so
// that gateways restarted together do not retry in step.
func (f *Forwarder) backoff(fails int) time.Duration {
	d := f.o.BackoffMax
	if fails < 32 {
		d = min(f.o.BackoffMin<<(fails-1), f.o.BackoffMax)
	}
	half := d / 2
	return half + rand.N(half+1)
}

func (f *Forwarder) sleep(ctx context.Context, d time.Duration, kickable bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	kick := f.kick
	if !kickable {
		kick = nil // a failing sink is not hurried by new records
	}
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-kick:
	}
}

// step delivers one batch and records the outcome. It returns how many
// records were handled (acknowledged or dead-lettered).
func (f *Forwarder) step(ctx context.Context) (int, error) {
	n := f.o.Batch
	if f.single > 0 {
		n = 1
	}
	var recs []store.Record
	err := f.o.DB.View(func(tx *store.Tx) error {
		var err error
		recs, err = f.head(tx, n)
		return err
	})
	if err != nil || len(recs) == 0 {
		f.report()
		return 0, err
	}
	dctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	res, err := f.o.Sink.Deliver(dctx, recs)
	cancel()
	now := time.Now().UTC()
	switch {
	case errors.Is(err, ErrPermanent) && len(recs) > 1:
		// Someone in the batch is refused for good: find out who by
		// sending one at a time.
		f.single = len(recs)
		return 0, fmt.Errorf("%w: %w", ErrSink, err)
	case errors.Is(err, ErrPermanent):
		res = []Result{{Seq: recs[0].Seq, Permanent: true, Reason: err.Error()}}
	case err != nil:
		return 0, fmt.Errorf("%w: %w", ErrSink, err)
	case len(res) != len(recs):
		return 0, fmt.Errorf("%w: %d results for %d records", ErrSink, len(res), len(recs))
	}
	var (
		acked []uint64
		dead  []store.DeadLetter
		retry *Result
	)
	for i := range res {
		r := &res[i]
		if r.Seq != recs[i].Seq {
			return 0, fmt.Errorf("%w: results out of order", ErrSink)
		}
		if r.OK {
			acked = append(acked, r.Seq)
			continue
		}
		if r.Permanent {
			dead = append(dead, store.DeadLetter{Seq: r.Seq, Sink: f.o.Sink.Name(), At: now, Reason: r.Reason})
			continue
		}
		// Strict order: nothing after a record that must be retried is
		// taken as done, so no account's records overtake each other.
		retry = r
		break
	}
	if len(acked)+len(dead) > 0 {
		if err := f.o.DB.Update(ctx, func(tx *store.Tx) error { return f.done(tx, acked, dead) }); err != nil {
			return 0, err
		}
	}
	f.o.Metrics.ForwarderDelivered(f.o.Sink.Metric(), len(acked))
	for _, d := range dead {
		f.o.Metrics.ForwarderDeadLetter(f.o.Sink.Metric())
		f.o.Logger.Error("forward: record refused for good, moved to dead letters",
			"sink", d.Sink, "seq", d.Seq, "reason", d.Reason)
	}
	f.report()
	if retry != nil {
		return len(acked) + len(dead), fmt.Errorf("%w: record %d not accepted: %s", ErrSink, retry.Seq, retry.Reason)
	}
	switch {
	case len(dead) > 0:
		f.single = 0
	case f.single > 0:
		f.single--
	}
	return len(acked) + len(dead), nil
}

// report updates the outbox gauge (primary forwarder only: a second sink's
// backlog is not the outbox).
func (f *Forwarder) report() {
	if f.o.Metrics == nil || f.o.Position != "" {
		return
	}
	if n, oldest, err := f.Pending(); err == nil {
		f.o.Metrics.SetOutbox(n, oldest)
	}
}

// Pending reports how many records wait for this forwarder and the time
// of the oldest.
func (f *Forwarder) Pending() (int, time.Time, error) {
	var (
		n      int
		oldest time.Time
	)
	err := f.o.DB.View(func(tx *store.Tx) error {
		var err error
		n, oldest, err = f.backlog(tx)
		return err
	})
	return n, oldest, err
}
