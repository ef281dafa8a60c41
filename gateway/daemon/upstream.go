package daemon

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/config"
	"ecardgw/gateway/forward"
	"ecardgw/gateway/txn"
	"ecardgw/metrics"
	"ecardgw/store"
)

// upstream is everything beyond the box: the card centre (connected mode),
// the payment service (standalone with payments.url), the record sinks and
// the shared campus-code replay record.
type upstream struct {
	client   *centre.Client // the centre (connected) or the payment service
	centre   txn.Centre     // nil in standalone mode; the breaker in front of the client
	breaker  *centre.Breaker
	payments txn.Payments
	shared   *forward.SharedReplay
	sinks    []forward.Sink
	reach    atomic.Int32 // metrics.CentreState
	// refresh is set when the centre applied delivered records (a top-up,
	// an advice, a stand-in purchase...): the replica's accounts are read
	// again at the next tick, so that the gateway's balances equal the
	// centre's within a second of the outbox draining.
	refresh atomic.Bool
	// snapLock (a lock: one token) keeps a snapshot read and applied from
	// interleaving with a delivery and its stand-in confirmations: a
	// confirmation debits the replica, which a snapshot read after the
	// centre applied the same record must not then overwrite nor be
	// followed by. Waiters queue in order; the snapshot waits for it at
	// most snapLockWait, so that a slow delivery never holds up the
	// blacklist sync that runs in the same loop.
	snapLock chan struct{}
}

// snapLockWait bounds the replica sync's wait for a delivery in progress;
// the snapshot is then tried again at the next tick.
const snapLockWait = 500 * time.Millisecond

// newUpstream connects what the configuration names, with the key file's
// upstream credentials. Nothing is dialled for HTTP until first use; NATS
// is connected here so a wrong URL or a refused credential fails at start.
func newUpstream(cfg *config.Config, keys *config.Keys) (*upstream, error) {
	u := &upstream{snapLock: make(chan struct{}, 1)}
	u.reach.Store(int32(metrics.CentreStandalone))
	switch {
	case cfg.Mode == config.ModeConnected:
		c, err := centre.New(centre.OptionsFromConfig(cfg.Centre, keys.Upstream))
		if err != nil {
			return nil, fmt.Errorf("centre: %w", err)
		}
		u.client, u.centre, u.payments = c, centre.TxnCentre{Client: c}, c
		u.sinks = append(u.sinks, forward.NewHTTPSink(c))
		u.reach.Store(int32(metrics.CentreReachable))
	case cfg.Payments.URL != "":
		c, err := centre.New(centre.PaymentsOptionsFromConfig(cfg, keys))
		if err != nil {
			return nil, fmt.Errorf("payments.url: %w", err)
		}
		u.client, u.payments = c, c
	}
	if n := cfg.Forward.NATS; n.URL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o, err := forward.NATSOptionsFromConfig(n, keys.Upstream)
		if err != nil {
			u.close()
			return nil, fmt.Errorf("forward.nats: %w", err)
		}
		o.Name = "ecardgw"
		sink, err := forward.NewNATSSink(ctx, o)
		if err != nil {
			u.close()
			return nil, fmt.Errorf("forward.nats: %w", err)
		}
		u.sinks = append(u.sinks, sink)
		if n.ReplayBucket != "" {
			ttl := 2 * (cfg.CampusCode.Validity + cfg.CampusCode.Skew + time.Minute)
			sr, err := forward.NewSharedReplay(ctx, o, n.ReplayBucket, ttl)
			if err != nil {
				u.close()
				return nil, fmt.Errorf("forward.nats.replay_bucket: %w", err)
			}
			u.shared = sr
		}
	}
	return u, nil
}

func (u *upstream) close() {
	for _, s := range u.sinks {
		if c, ok := s.(interface{ Close() }); ok {
			c.Close()
		}
	}
	if u.shared != nil {
		u.shared.Close()
	}
	if u.client != nil {
		u.client.Close()
	}
}

// confirmingSink tells the engine when the centre has accepted a stand-in
// purchase, so it stops counting against the account's exposure, and asks
// for a replica refresh when the centre applied records.
type confirmingSink struct {
	forward.Sink
	eng *txn.Engine
	up  *upstream
	log interface {
		Warn(string, ...any)
	}
}

func (s confirmingSink) Deliver(ctx context.Context, recs []store.Record) ([]forward.Result, error) {
	select {
	case s.up.snapLock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.up.snapLock }()
	res, err := s.Sink.Deliver(ctx, recs)
	if err != nil {
		return res, err
	}
	bySeq := make(map[uint64]*store.Record, len(recs))
	for i := range recs {
		bySeq[recs[i].Seq] = &recs[i]
	}
	applied := false
	for _, r := range res {
		applied = applied || r.Applied
		rec := bySeq[r.Seq]
		if !r.OK || rec == nil || !rec.StandIn || rec.Kind != store.KindPurchase || txn.RC(rec.Resp) != txn.RCApproved {
			continue
		}
		if cerr := s.eng.ConfirmStandIn(context.WithoutCancel(ctx), rec.Account, rec.Amount); cerr != nil {
			s.log.Warn("stand-in confirmation not recorded", "seq", rec.Seq, "err", cerr)
		}
	}
	if applied {
		// After the stand-in confirmations: the snapshot read then holds
		// the centre's balance with them, and is the last word.
		s.up.refresh.Store(true)
	}
	return res, nil
}

// startUpstream runs the forwarders and, in connected mode, the replica
// sync, until Stop.
func (d *Daemon) startUpstream() {
	u := d.up
	for i, sink := range u.sinks {
		if u.centre != nil && i == 0 {
			sink = confirmingSink{Sink: sink, eng: d.Engine, up: u, log: d.log}
		}
		pos := ""
		if i > 0 {
			pos = sink.Name() // a second sink keeps its own journal position
		}
		f := forward.New(forward.Options{DB: d.DB, Sink: sink, Position: pos, Metrics: d.Metrics, Logger: d.log})
		d.forwarders = append(d.forwarders, f)
		d.runBG("background task", f.Run)
	}
	if u.centre != nil {
		d.runBG("background task", d.syncReplica)
	}
}

// Replica sync positions, in the store's settings.
const (
	metaSnapshotVersion  = "centre.snapshot.version"
	metaBlacklistVersion = "centre.blacklist.version"
)

// syncReplica keeps the replica (accounts, balances, status, blacklist)
// close to the centre: the blacklist every second (a lost card stops
// within 1 s at stand-in too), the account snapshot every 30 s and within
// a second of the centre applying delivered records. Its successes and
// failures are the centre's reachability.
func (d *Daemon) syncReplica(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastSnap time.Time
	for {
		err := d.syncBlacklist(ctx)
		if err == nil && (time.Since(lastSnap) >= 30*time.Second || d.up.refresh.Load()) {
			// Cleared before reading: records the centre applies while
			// the snapshot is read set it again for the next tick.
			d.up.refresh.Store(false)
			var done bool
			if done, err = d.syncSnapshot(ctx); !done {
				d.up.refresh.Store(true) // next tick
			} else {
				lastSnap = time.Now()
			}
		}
		d.setReach(err == nil)
		if err != nil && ctx.Err() == nil {
			d.log.Debug("replica sync", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (d *Daemon) setReach(ok bool) {
	st := metrics.CentreUnreachable
	if ok {
		st = metrics.CentreReachable
	}
	if old := metrics.CentreState(d.up.reach.Swap(int32(st))); old != st {
		if ok {
			d.log.Info("card centre reachable again")
		} else {
			d.log.Warn("card centre unreachable: standing in within the stand-in limits")
		}
	}
	d.Metrics.SetCentreState(st)
}

func metaU64(tx *store.Tx, key string) uint64 {
	v, _ := tx.Meta(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (d *Daemon) syncBlacklist(ctx context.Context) error {
	var since uint64
	if err := d.DB.View(func(tx *store.Tx) error { since = metaU64(tx, metaBlacklistVersion); return nil }); err != nil {
		return err
	}
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		entries, more, err := d.up.client.Blacklist(cctx, uint32(since))
		cancel()
		if err != nil || len(entries) == 0 {
			return err
		}
		now := time.Now().UTC()
		var ver uint32
		err = d.DB.Update(ctx, func(tx *store.Tx) error {
			for _, e := range entries {
				v, err := tx.BlacklistAdd(e.Card, e.Add, now)
				if err != nil {
					return err
				}
				ver = v
				a, ok, err := tx.AccountByCard(e.Card)
				if err != nil {
					return err
				}
				if ok && (a.Status == store.StatusActive || a.Status == store.StatusLost) {
					a.Status = store.StatusActive
					if e.Add {
						a.Status = store.StatusLost
					}
					if err := tx.PutAccount(&a); err != nil {
						return err
					}
				}
			}
			last := uint64(entries[len(entries)-1].Version)
			return tx.PutMeta(metaBlacklistVersion, binary.BigEndian.AppendUint64(nil, last))
		})
		if err != nil {
			return err
		}
		d.Engine.BlacklistChanged(ver)
		since = uint64(entries[len(entries)-1].Version)
		if !more {
			return nil
		}
	}
}

// syncSnapshot reads the accounts changed at the centre since the
// replica's version and writes them. done is false when it did not run
// to the end: an error, or a delivery held the replica for longer than
// snapLockWait (err nil: try again at the next tick).
func (d *Daemon) syncSnapshot(ctx context.Context) (done bool, err error) {
	wait := time.NewTimer(snapLockWait)
	defer wait.Stop()
	select {
	case d.up.snapLock <- struct{}{}:
	case <-wait.C:
		return false, nil
	case <-ctx.Done():
		return false, nil
	}
	defer func() { <-d.up.snapLock }()
	err = d.readSnapshot(ctx)
	return err == nil, err
}

func (d *Daemon) readSnapshot(ctx context.Context) error {
	var since uint64
	if err := d.DB.View(func(tx *store.Tx) error { since = metaU64(tx, metaSnapshotVersion); return nil }); err != nil {
		return err
	}
	var batch []centre.AccountSnapshot
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rows := batch
		batch = nil
		return d.DB.Update(ctx, func(tx *store.Tx) error {
			for _, s := range rows {
				if !d.Engine.NoteReplicaVersion(s.No, s.Version) {
					continue // an online answer brought a newer state
				}
				a, ok, err := tx.Account(s.No)
				if err != nil {
					return err
				}
				if !ok {
					a = store.Account{No: s.No}
				}
				a.Name, a.StaffNo, a.CardNumber, a.CardSerial = s.Name, s.StaffNo, s.CardNumber, s.CardSerial
				a.BalanceFen = s.BalanceFen
				if st, err := store.ParseStatus(s.Status); err == nil {
					a.Status = st
				}
				a.ECardActive = a.ECardActive || s.ECardActive
				a.Updated = time.Now().UTC()
				if err := tx.PutAccount(&a); err != nil {
					return fmt.Errorf("replica account %d: %w", s.No, err)
				}
			}
			return nil
		})
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ver, err := d.up.client.Snapshot(cctx, since, func(s centre.AccountSnapshot) error {
		batch = append(batch, s)
		if len(batch) >= 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	return d.DB.Update(ctx, func(tx *store.Tx) error {
		return tx.PutMeta(metaSnapshotVersion, binary.BigEndian.AppendUint64(nil, ver))
	})
}

// Backlog is the number of journal records not yet delivered by the
// primary forwarder (0 when nothing is forwarded).
func (d *Daemon) Backlog() (int, error) {
	if len(d.forwarders) == 0 {
		return 0, nil
	}
	n, _, err := d.forwarders[0].Pending()
	return n, err
}
