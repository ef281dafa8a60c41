package daemon

import (
	"context"
	"time"

	"ecardgw/gateway/config"
	"ecardgw/gateway/forward"
	"ecardgw/gateway/inspect"
	"ecardgw/gateway/service"
	"ecardgw/store"
)

// retention archives and prunes the journal and the outbox as
// retention.* says (read at each run, so a reload applies), every
// retention.interval until ctx ends.
func (d *Daemon) retention(ctx context.Context) error {
	d.mu.Lock()
	every := d.cfg.Retention.Interval
	d.mu.Unlock()
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		d.prune(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// prune runs retention once.
func (d *Daemon) prune(ctx context.Context) {
	d.mu.Lock()
	r := d.cfg.Retention
	d.mu.Unlock()
	if !r.Enabled() {
		return
	}
	p, err := inspect.Prune(ctx, d.DB, RetentionPolicy(r, d.keepFrom), time.Now().UTC())
	if p.Journal+p.Outbox+p.Idem+p.Outcomes > 0 {
		d.log.Info("retention: archived and pruned", "journal", p.Journal, "outbox", p.Outbox, "idempotency", p.Idem,
			"service_answers", p.Outcomes, "files", p.Files)
	}
	if err != nil && ctx.Err() == nil {
		d.log.Error("retention: pruning stopped", "err", err)
	}
}

// RetentionPolicy is what one retention run prunes under r, for the
// running gateway and `ecardgw store prune` alike; keep says what the
// sinks with their own position still need (RetentionKeepFrom).
func RetentionPolicy(r config.Retention, keep func(*store.Tx) (uint64, error)) inspect.Retention {
	return inspect.Retention{Journal: r.Journal, Outbox: r.Outbox, Idempotency: r.Idempotency, Dir: r.ArchiveDir,
		KeepFrom: keep, Outcomes: service.PruneOutcomes, OutcomesMin: service.OutcomeRetentionMin}
}

// keepFrom is the first journal record a second sink still has to take.
func (d *Daemon) keepFrom(tx *store.Tx) (uint64, error) {
	var names []string
	if d.up != nil && len(d.up.sinks) > 1 {
		for _, s := range d.up.sinks[1:] {
			names = append(names, s.Name())
		}
	}
	return keepFrom(tx, names)
}

// RetentionKeepFrom is what journal retention must keep under cfg for
// the sinks that keep their own position (a stream fed besides the
// centre), for `ecardgw store prune` on a stopped gateway.
func RetentionKeepFrom(cfg *config.Config) func(*store.Tx) (uint64, error) {
	var names []string
	if cfg.Mode == config.ModeConnected && cfg.Forward.NATS.URL != "" {
		names = append(names, "jetstream") // newUpstream: the centre first, then the stream
	}
	return func(tx *store.Tx) (uint64, error) { return keepFrom(tx, names) }
}

func keepFrom(tx *store.Tx, sinks []string) (uint64, error) {
	var keep uint64
	for _, name := range sinks {
		pos, err := forward.Delivered(tx, name)
		if err != nil {
			return 0, err
		}
		if keep == 0 || pos+1 < keep {
			keep = pos + 1
		}
	}
	return keep, nil
}
