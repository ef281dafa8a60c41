package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ecardgw/gateway/admin"
	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/centre"
	"ecardgw/gateway/config"
	"ecardgw/gateway/forward"
	"ecardgw/gateway/inspect"
	"ecardgw/gateway/logging"
	"ecardgw/gateway/server"
	"ecardgw/gateway/service"
	"ecardgw/gateway/txn"
	"ecardgw/metrics"
	"ecardgw/store"
)

// Options are what the command line adds to the configuration.
type Options struct {
	ConfigPath string       // for Reload; "" disables reloading
	Version    string       // reported in build info and /status
	Revision   string       // VCS revision for build info ("" reads the binary's)
	Logger     *slog.Logger // slog.Default() when nil
	// LogLevel, when set, is the level variable of Logger: a reload sets
	// it to log.level.
	LogLevel *slog.LevelVar
	// ShutdownTimeout bounds the wait for in-flight requests (default 10 s).
	ShutdownTimeout time.Duration
	// StoreMaxSize caps the store file in bytes (store.Options.MaxSize), so
	// that tests and drills can fill the "disk"; 0 in production.
	StoreMaxSize int
	// SocketSendBuffer sets SO_SNDBUF on terminal connections
	// (server.Options.SocketSendBuffer), so that tests reach the unread
	// answers limit without first filling megabytes of kernel buffers; 0
	// (production) keeps the system's.
	SocketSendBuffer int
	// StoreFailAfterCommit is store.Options.FailAfterCommit: fault
	// injection for tests (a commit whose fsync fails after bbolt wrote
	// its meta page). Nil in production.
	StoreFailAfterCommit func() error
}

// Daemon is one running gateway.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	started time.Time

	mu   sync.Mutex // guards cfg and keys (Reload)
	cfg  *config.Config
	keys *config.Keys
	env  map[string]string // ECARDGW_* overrides at start (GET /config)

	Metrics *metrics.Metrics
	DB      *store.DB
	Engine  *txn.Engine
	POS     *server.Server
	Admin   *admin.Server
	Service *service.Server

	health     *storeHealth
	terms      *termTracker // the per-terminal view and decline trace
	up         *upstream
	forwarders []*forward.Forwarder

	cleanup   closers     // releases what New and Start acquired
	startOnce atomic.Bool // Start ran, or Stop did
	posUp     atomic.Bool
	stopOnce  sync.Once
	stopErr   error
}

// New opens the store and builds every component; nothing listens yet.
// When it fails it releases what it acquired (the store, the upstream
// connections); once it succeeds, Stop releases them.
func New(cfg *config.Config, keys *config.Keys, opts Options) (*Daemon, error) {
	if err := cfg.CheckKeys(keys); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	d := &Daemon{opts: opts, log: opts.Logger, cfg: cfg, keys: keys, env: config.EnvOverrides()}
	d.terms = newTermTracker(d.log, cfg.Terminals)
	d.health = &storeHealth{log: d.log, fatal: make(chan error, 1), path: cfg.Store.Path}
	bi := metrics.ReadBuildInfo(opts.Version)
	if opts.Revision != "" {
		bi.Revision = opts.Revision
	}
	d.Metrics = metrics.New(bi)
	d.health.m = d.Metrics

	opened := time.Now()
	db, err := store.Open(cfg.Store.Path, store.Options{
		StorageKey:      keys.StorageKey,
		OnCommit:        d.health.onCommit,
		MaxSize:         opts.StoreMaxSize,
		FailAfterCommit: opts.StoreFailAfterCommit,
		Linger:          cfg.Store.GroupCommitWait,
		CheckWait:       cfg.Store.CheckWait,
		OnCheck:         d.health.checked,
		// Only a sink empties the outbox: without one it would grow for ever.
		NoOutbox: PrimarySink(cfg) == "",
	})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("store %s is in use by another process, another ecardgw serving it "+
			"or an ecardgw store/accounts command; two gateways must never serve one store, so this one "+
			"does not start (stop the other first): %w", cfg.Store.Path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", cfg.Store.Path, err)
	}
	d.DB = db
	d.Metrics.SetStoreUp(true)
	d.Metrics.WatchIdemLog(db.IdemLogged)
	d.cleanup.add("store close", func(context.Context) error {
		err := db.Close()
		d.Metrics.SetStoreUp(false)
		return err
	})
	// How long the store took to open and check: after a crash this is
	// most of the time before terminals are served again. Then its parts:
	// a cold start after a reboot is mostly read_ahead (the disk's
	// sequential speed), a restart of the process mostly check.
	st := db.OpenStats()
	ms := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	d.log.Info("store open", "path", db.Path(), "took", time.Since(opened).Round(time.Millisecond),
		"bolt_open", ms(st.Bolt), "opening_commit", ms(st.Prepare),
		"read_ahead", ms(st.ReadAhead), "read_mib", st.ReadBytes>>20, "cached_mib", st.CachedBytes>>20, "check", ms(st.Check),
		"check_behind", st.CheckBehind)

	verifier, err := newVerifier(cfg)
	if err != nil {
		return nil, d.abandon(err)
	}
	terms, err := engineTerminals(cfg, keys)
	if err != nil {
		return nil, d.abandon(err)
	}
	up, err := newUpstream(cfg, keys)
	if err != nil {
		return nil, d.abandon(err)
	}
	d.up = up
	d.cleanup.add("upstream close", func(context.Context) error {
		up.close()
		return nil
	})
	if up.centre != nil {
		// Stand in at once while the centre is known to be down, instead
		// of every request waiting out centre.timeout.
		up.breaker = centre.NewBreaker(up.centre, centre.BreakerOptions{
			Failures: cfg.Centre.BreakerFailures, OpenFor: cfg.Centre.BreakerOpen, Logger: d.log,
			Probe: d.probeCentre, ProbeTimeout: cfg.Centre.Timeout,
			OnChange: func(s centre.BreakerState) { d.Metrics.BreakerChanged(metrics.BreakerState(s)) },
		})
		up.centre = up.breaker
	}
	payments, err := channelPayments(cfg, keys, db, up.payments, d.log)
	if err != nil {
		return nil, d.abandon(err)
	}
	var shared txn.SharedReplay
	if up.shared != nil {
		shared = up.shared
	}
	eng, err := txn.New(txn.Config{
		Centre:                up.centre,
		Payments:              payments,
		SharedReplay:          shared,
		CentreTimeout:         cfg.Centre.Timeout,
		StandIn:               engineStandIn(cfg),
		Poll:                  txn.PollPolicy{Limit: cfg.Payments.PollLimit, Interval: cfg.Payments.PollInterval},
		MaxPendingPayments:    cfg.Payments.MaxPending,
		MaxPendingPerTerminal: cfg.Payments.MaxPendingPerTerminal,
		DB:                    db,
		Terminals:             terms,
		Limits:                engineLimits(cfg),
		Logger:                d.log,
		Observer:              newObserver(d.Metrics, d.terms),
		Campus:                verifier,
		WalletMasterKey:       keys.WalletMasterLoadKey,
		WalletMasterKeys:      walletKeys(keys).ByVersion,
		LossBlocksCampusCode:  cfg.CampusCode.LossBlocksCampusCode,
		SessionLifetime:       cfg.Session.KeyLifetime,
	})
	if err != nil {
		return nil, d.abandon(err)
	}
	d.Engine = eng

	pos, err := server.New(handler{eng}, server.Options{
		Addr:        cfg.Listen.POS,
		Multicore:   cfg.Server.Multicore,
		MaxFrame:    cfg.Server.MaxFrame,
		IdleTimeout: cfg.Server.IdleTimeout,
		MaxConns:    cfg.Server.MaxConns,
		Workers:     cfg.Server.Workers,
		MaxInFlight: cfg.Server.MaxInFlight,
		Logger:      d.log,

		FrameTimeout:           cfg.Server.FrameTimeout,
		MaxConnsPerAddr:        cfg.Server.MaxConnsPerAddr,
		TrustedAddrs:           cfg.Server.TrustedPrefixes,
		MaxConnsPerTrustedAddr: cfg.Server.MaxConnsPerTrustedAddr,
		BufferBudget:           cfg.Server.BufferBudget(),

		// A test seam, not configuration (see Options).
		SocketSendBuffer: opts.SocketSendBuffer,
		Hooks: server.Hooks{
			OnOpen:       d.Metrics.ConnOpened,
			OnClose:      func(r server.CloseReason) { d.Metrics.ConnClosed(closeReason(r)) },
			OnReject:     func(r server.CloseReason) { d.Metrics.ConnClosed(closeReason(r)) },
			OnFrameError: func(r server.FrameReason) { d.Metrics.DecodeError(frameReason(r)) },
		},
	})
	if err != nil {
		return nil, d.abandon(err)
	}
	d.POS = pos
	d.Admin = admin.New(cfg.Listen.Admin, d.Metrics, admin.Options{
		Logger: d.log,
		Checks: []admin.Check{
			admin.CentreCheck(d.centreState),
			{Name: "store", Func: func(context.Context) (string, error) {
				if db.Broken() {
					return db.Path(), errors.New("a commit failed after it may have reached the disk: no answers until the gateway restarts")
				}
				if d.health.down.Load() {
					return db.Path(), errors.New("the store cannot write (disk full or I/O error): financial requests answered 96, inquiries served")
				}
				return db.Path(), db.View(func(*store.Tx) error { return nil })
			}},
			{Name: "pos_listener", Func: func(context.Context) (string, error) {
				if !d.posUp.Load() {
					return "", errors.New("POS listener not up")
				}
				return d.POS.Addr().String(), nil
			}},
		},
		Status: d.status,
		// Journal exports and backups go through the daemon because bbolt's
		// lock keeps every other process out of the store while it runs.
		Local: map[string]http.Handler{
			"GET /journal": inspect.JournalHandler(db, d.log, cfg.Admin.TransferTimeout),
			"GET /backup":  inspect.BackupHandler(db, d.log, cfg.Admin.TransferTimeout),
			// Terminal views show where terminals connect from.
			"GET /terminals":      admin.TerminalsHandler(d.terminals),
			"GET /terminals/{id}": admin.TerminalsHandler(d.terminals),
			// Dead letters: list and show them, put them back in the outbox.
			"GET /deadletters":          inspect.DeadLetterHandler(db, d.primarySink, d.kickForwarder, d.log),
			"POST /deadletters/requeue": inspect.DeadLetterHandler(db, d.primarySink, d.kickForwarder, d.log),
			"GET /config":               http.HandlerFunc(d.serveConfig),
		},
		// Read through the daemon so that a SIGHUP key reload applies.
		Tokens: func(tok string) bool {
			d.mu.Lock()
			k := d.keys
			d.mu.Unlock()
			return k.ValidAdminToken(tok)
		},
		AllowedHosts: cfg.Admin.AllowedHosts,
	})
	if len(keys.AdminTokens) == 0 {
		d.log.Warn("the key file has no admin_tokens: journal exports, backups and pprof through the admin listener are refused")
	}
	return d, nil
}

// handler adapts the engine to the server: a frame the engine cannot
// answer (nil) closes the connection. A request waiting on the payment
// channel, the centre or the shared replay record is answered later and
// holds no worker.
type handler struct{ e *txn.Engine }

var _ server.LaterHandler = handler{}

func (h handler) Handle(ctx context.Context, c *server.ConnInfo, frame []byte) ([]byte, bool) {
	var remote net.Addr
	if c != nil {
		remote = c.Remote
	}
	answer := h.e.HandleFrom(ctx, remote, frame)
	return answer, answer == nil
}

func (h handler) HandleLater(ctx context.Context, c *server.ConnInfo, frame []byte, later server.Later) ([]byte, bool, bool) {
	var remote net.Addr
	if c != nil {
		remote = c.Remote
	}
	answer, deferred := h.e.HandleAsync(ctx, remote, frame, func(a []byte) { later.Answer(a, a == nil) })
	return answer, answer == nil, deferred
}

// engineTerminals joins the configured terminals with their master keys.
func engineTerminals(cfg *config.Config, keys *config.Keys) ([]txn.Terminal, error) {
	out := make([]txn.Terminal, 0, len(cfg.Terminals))
	for _, t := range cfg.Terminals {
		if t.Disabled {
			continue // answered 03 as if not configured; its master key stays in the key file
		}
		typ, err := txn.ParseTerminalType(string(t.Type))
		if err != nil {
			return nil, fmt.Errorf("terminals: %s: %w", t.ID, err)
		}
		tmk, ok := keys.TMK(t.ID)
		if !ok {
			return nil, fmt.Errorf("keys: terminals.%s: no master key", t.ID)
		}
		out = append(out, txn.Terminal{ID: t.ID, Merchant: t.Merchant, Type: typ, Location: t.Location, TMK: []byte(tmk),
			DoubleMAK: t.DoubleMAK(), LegacySignOut: t.LegacySignOut})
	}
	return out, nil
}

// newVerifier builds the campus-code verifier; nil when no issuer key is
// configured (campus codes are then refused as not allowed).
func newVerifier(cfg *config.Config) (*campuscode.Verifier, error) {
	cc := cfg.CampusCode
	if len(cc.Issuers) == 0 {
		return nil, nil
	}
	vc := campuscode.Config{Validity: cc.Validity, Skew: cc.Skew, CacheSize: cc.CacheSize}
	for _, a := range cc.Algorithms {
		alg, err := campuscode.ParseAlgorithm(string(a))
		if err != nil {
			return nil, fmt.Errorf("campuscode.algorithms: %q: %w", a, err)
		}
		vc.Algorithms = append(vc.Algorithms, alg)
	}
	for i, is := range cc.Issuers {
		alg, err := campuscode.ParseAlgorithm(string(is.Algorithm))
		if err != nil {
			return nil, fmt.Errorf("campuscode.issuers[%d].algorithm: %w", i, err)
		}
		vc.Issuers = append(vc.Issuers, campuscode.IssuerKey{KeyID: is.KeyID, Alg: alg, PublicKey: is.PublicKey,
			NotBefore: is.NotBefore, NotAfter: is.NotAfter, Revoked: is.Revoked})
	}
	v, err := campuscode.NewVerifier(vc)
	if err != nil {
		return nil, fmt.Errorf("campuscode: %w", err)
	}
	return v, nil
}

// Start opens the listeners and starts the background tasks. It returns
// once all are accepting. When it fails it releases everything, as Stop
// would: nothing is left listening and the store is closed.
//
// The POS listener opens last, so terminals reach a gateway whose other
// parts already run, and Stop, which releases in the reverse order, stops
// accepting terminals first.
func (d *Daemon) Start() error {
	if !d.startOnce.CompareAndSwap(false, true) {
		return errors.New("daemon: already started or stopped")
	}
	d.started = time.Now().UTC()
	applyRuntime(d.cfg.Server.GOGC, d.cfg.Server.MemoryLimitMB, d.log)
	ApplyProcs(d.cfg.Server.GoMaxProcs, server.Options{Multicore: d.cfg.Server.Multicore}.EventLoops(), d.log)
	if err := d.Admin.Start(); err != nil {
		return d.abandon(fmt.Errorf("admin listener %s: %w", d.cfg.Listen.Admin, err))
	}
	d.cleanup.add("admin shutdown", d.Admin.Shutdown)
	if err := d.startService(); err != nil {
		return d.abandon(err)
	}
	if err := d.startCardIO(); err != nil {
		return d.abandon(fmt.Errorf("card readers: %w", err))
	}
	d.startUpstream()
	d.runBG("housekeeping", d.housekeeping)
	d.runBG("retention", d.retention)
	d.runBG("idle collector", func(ctx context.Context) error {
		idleCollector(ctx.Done(), d.log)
		return nil
	})
	// What a stop left at the payment channel is ended before terminals
	// come back (queried, cancelled or refunded, from the retry queue).
	rctx, rcancel := context.WithTimeout(context.Background(), time.Minute)
	if n, err := d.Engine.RecoverPayments(rctx); err != nil {
		d.log.Error("recovering interrupted payments; retried at the next start", "err", err)
	} else if n > 0 {
		d.log.Warn("payments interrupted by the last stop were ended at the channel", "count", n)
	}
	rcancel()
	d.cleanup.add("payments close", func(context.Context) error {
		d.Engine.Close()
		return nil
	})
	if err := d.POS.Start(); err != nil {
		return d.abandon(fmt.Errorf("POS listener %s: %w", d.cfg.Listen.POS, err))
	}
	d.posUp.Store(true)
	d.cleanup.add("POS shutdown", func(ctx context.Context) error {
		err := d.POS.Shutdown(ctx)
		d.posUp.Store(false)
		return err
	})
	// Runs before the POS shutdown: pending code payments are answered
	// now (98, their trades cancelled) rather than holding the drain.
	d.cleanup.add("payments stop", func(context.Context) error {
		d.Engine.StopPayments()
		return nil
	})
	d.log.Info("ecardgw serving", "version", d.opts.Version, "mode", string(d.cfg.Mode), "pos", d.POS.Addr().String(),
		"admin", d.Admin.Addr(), "service", d.serviceAddr(), "terminals", len(d.cfg.Terminals), "store", d.DB.Path())
	return nil
}

// POSAddr is the bound POS address (useful with port 0).
func (d *Daemon) POSAddr() net.Addr { return d.POS.Addr() }

// housekeeping purges expired campus-code replay records and refreshes
// gauges, until ctx ends.
func (d *Daemon) housekeeping(ctx context.Context) error {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if _, err := d.DB.PurgeReplay(now.UTC()); err != nil {
				d.log.Warn("purging campus-code replay records", "err", err)
			}
			d.refreshGauges()
		}
	}
}

func (d *Daemon) refreshGauges() {
	_ = d.DB.View(func(tx *store.Tx) error {
		v, err := tx.BlacklistVersion()
		if err == nil {
			d.Metrics.SetBlacklistVersion(v)
		}
		if exp, err := tx.StandInTotal(); err == nil {
			d.Metrics.SetStandInExposure(exp)
		}
		return nil
	})
	d.Metrics.SetSessionsActive(d.Engine.Sessions())
}

// Run starts the gateway and serves until ctx is done, then stops it.
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.Start(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return d.Stop()
	case err := <-d.health.fatal:
		return errors.Join(err, d.Stop())
	}
}

// Stop is the lame-duck shutdown: stop accepting, answer what is in
// flight (bounded by ShutdownTimeout), then stop the background tasks,
// close the service and admin listeners, the upstream connections and the
// store: everything New and Start acquired, in the reverse order. It runs
// once.
func (d *Daemon) Stop() error {
	d.stopOnce.Do(func() {
		d.log.Info("shutting down: finishing in-flight requests")
		d.startOnce.Store(true) // nothing starts after Stop
		d.stopErr = d.release()
		d.log.Info("stopped")
	})
	return d.stopErr
}

// Reload re-reads the configuration and key file (SIGHUP) and applies,
// without dropping connections, everything that can change while the
// gateway runs: terminals and their keys, limits.*, standin.*,
// campuscode.* (issuer keys included), log.level, the wallet master load
// keys and the service and admin tokens (config.Reloadable). When a
// setting that needs a restart changed too, nothing is applied: the
// error (a *RestartError) names those settings. A file with an error is
// not applied either.
func (d *Daemon) Reload() error {
	if d.opts.ConfigPath == "" {
		return errors.New("reload: no configuration file")
	}
	cfg, err := config.Load(d.opts.ConfigPath)
	if err != nil {
		return err
	}
	keys, err := config.LoadKeys(cfg.Keys.File)
	if err != nil {
		return err
	}
	if err := cfg.CheckKeys(keys); err != nil {
		return err
	}
	d.mu.Lock()
	old, oldKeys := d.cfg, d.keys
	d.mu.Unlock()
	changes := config.Diff(config.Flatten(old, oldKeys), config.Flatten(cfg, keys))
	if need := config.RestartKeys(changes); len(need) > 0 {
		return &RestartError{Keys: need}
	}
	// Everything is built before anything is applied, so that a failure
	// leaves the running configuration whole.
	terms, err := engineTerminals(cfg, keys)
	if err != nil {
		return err
	}
	verifier, err := newVerifier(cfg)
	if err != nil {
		return err
	}
	level, err := logging.ParseLevel(cfg.Log.Level)
	if err != nil {
		return err
	}
	if err := d.Engine.SetTerminals(terms); err != nil {
		return err
	}
	d.terms.setTerminals(cfg.Terminals)
	d.Engine.SetLimits(engineLimits(cfg))
	d.Engine.SetStandIn(engineStandIn(cfg))
	d.Engine.SetCampus(verifier, cfg.CampusCode.LossBlocksCampusCode)
	d.Engine.SetWalletKeys(walletKeys(keys))
	if d.opts.LogLevel != nil {
		d.opts.LogLevel.Set(level)
	}
	d.mu.Lock()
	d.cfg, d.keys = cfg, keys
	d.mu.Unlock()
	// Working keys were sent under the old TMK: whoever knows it could
	// read them, so those sessions end and the terminals sign in anew.
	if rekeyed := config.DiffKeys(oldKeys, keys); len(rekeyed) > 0 {
		if err := d.Engine.EndSessions(context.Background(), rekeyed); err != nil {
			d.log.Error("sessions of terminals with a new TMK not all ended", "terminals", rekeyed, "err", err)
		} else {
			d.log.Info("TMK changed: sessions ended, the terminals sign in again", "terminals", rekeyed)
		}
	}
	added, removed, changed := config.DiffTerminals(old.Terminals, cfg.Terminals)
	d.log.Info("reloaded terminals and keys", "added", added, "removed", removed, "changed", changed)
	d.log.Info("reloaded configuration", "changed", changedKeys(changes))
	return nil
}

// RestartError is a reload refused because settings changed that the
// running gateway applies only on restart.
type RestartError struct {
	Keys []string // the settings, sorted
}

func (e *RestartError) Error() string {
	return fmt.Sprintf("reload refused, nothing applied: %s changed, which takes effect only on restart "+
		"(systemctl restart ecardgw; or put the old value back and reload)", strings.Join(e.Keys, ", "))
}

// changedKeys lists the keys of changes for the log; key file entries are
// named, their fingerprints not logged.
func changedKeys(changes []config.Change) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.Key
	}
	return out
}

func engineLimits(cfg *config.Config) txn.Limits {
	return txn.Limits{DailyFen: cfg.Limits.DailyFen, TopUpMaxFen: cfg.Limits.TopupMaxFen, WalletLimit: cfg.Limits.WalletLimitFen,
		AdviceMaxFen: cfg.Limits.AdviceMaxFen}
}

func engineStandIn(cfg *config.Config) txn.StandInLimits {
	return txn.StandInLimits{PerTxnFen: cfg.StandIn.PerTxnFen, PerAccountFen: cfg.StandIn.PerAccountFen}
}

// walletKeys are the key file's wallet master load keys for the engine.
func walletKeys(k *config.Keys) txn.WalletKeys {
	w := txn.WalletKeys{Default: k.WalletMasterLoadKey, ByVersion: map[byte][]byte{}}
	for v, key := range k.WalletMasterLoadKeys {
		w.ByVersion[v] = key
	}
	return w
}

func (d *Daemon) status(ctx context.Context) (admin.Status, error) {
	d.mu.Lock()
	mode := string(d.cfg.Mode)
	d.mu.Unlock()
	st := admin.Status{Version: d.opts.Version, Mode: mode, StartedAt: d.started,
		Connections: d.POS.Conns(), Sessions: d.Engine.Sessions(), Centre: d.centreState().String()}
	if d.up != nil && d.up.breaker != nil {
		st.CentreBreaker = d.up.breaker.State().String()
	}
	st.Payments.Pending = d.Engine.PendingPayments()
	jobs, err := d.Engine.PayRetryJobs()
	if err != nil {
		return st, err
	}
	st.Payments.RetryQueue = len(jobs)
	for i, j := range jobs {
		if i == 0 {
			st.Payments.RetryOldestAgeSeconds = max(0, time.Since(j.Created).Seconds())
		}
		if i < admin.MaxRetryJobsShown {
			st.Payments.RetryJobs = append(st.Payments.RetryJobs, admin.RetryJob{Op: j.Op, Trade: j.Trade,
				Amount: j.Amount, Reason: j.Reason, Attempts: j.Attempts, NextAt: j.NextAt, LastError: j.LastError})
		}
	}
	err = d.DB.View(func(tx *store.Tx) error {
		v, err := tx.BlacklistVersion()
		st.BlacklistVersion = v
		if err != nil {
			return err
		}
		if st.StandInExposure, err = tx.StandInTotal(); err != nil {
			return err
		}
		n, oldest, err := inspect.Outbox(tx)
		st.Outbox.Records = n
		st.Outbox.Forwarded = len(d.forwarders) > 0
		if n > 0 {
			st.Outbox.OldestAgeSeconds = max(0, time.Since(oldest).Seconds())
		}
		return err
	})
	return st, err
}

// probeCentre asks the centre for the blacklist changes since the
// replica's version: cheap, and answered only by a centre that works.
func (d *Daemon) probeCentre(ctx context.Context) error {
	var since uint64
	if err := d.DB.View(func(tx *store.Tx) error { since = metaU64(tx, metaBlacklistVersion); return nil }); err != nil {
		return err
	}
	_, _, err := d.up.client.Blacklist(ctx, uint32(since))
	return err
}

// centreState is the gateway's view of the card centre.
func (d *Daemon) centreState() metrics.CentreState {
	if d.up == nil {
		return metrics.CentreStandalone
	}
	return metrics.CentreState(d.up.reach.Load())
}

// applyRuntime sets the collector's target (server.gogc) and the soft
// memory limit (server.memory_limit_mb), each unless the operator set its
// environment variable (GOGC, GOMEMLIMIT), which the Go runtime already
// applied.
func applyRuntime(gogc, limitMB int, log *slog.Logger) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Info("GOGC from the environment; server.gogc not applied", "GOGC", v)
	} else if gogc > 0 {
		debug.SetGCPercent(gogc)
	}
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		log.Info("GOMEMLIMIT from the environment; server.memory_limit_mb not applied", "GOMEMLIMIT", v)
	} else if limitMB > 0 {
		debug.SetMemoryLimit(int64(limitMB) << 20)
	}
}

// defaultProcs is GOMAXPROCS as the process started with it, before any
// gateway in it applied server.gomaxprocs.
var defaultProcs = runtime.GOMAXPROCS(0)

// ApplyProcs sets GOMAXPROCS to server.gomaxprocs, or with 0 to the
// runtime's default plus one per POS event loop, unless the operator set
// the GOMAXPROCS environment variable. gnet's event loops wait for the
// network in epoll_wait, a blocking system call during which the runtime
// leaves the loop its processor until the runtime's monitor takes it
// back, 20 µs to 10 ms later (golang/go#76290): with one processor per
// core and an event loop per core, the workers and the store's committer
// wait for those hand-backs while a core idles. A processor of their own
// per event loop lets the others run meanwhile (docs/ARCHITECTURE.md,
// "Processors for the event loops"). It returns the value in force.
func ApplyProcs(setting, loops int, log *slog.Logger) int {
	if v, ok := os.LookupEnv("GOMAXPROCS"); ok {
		log.Info("GOMAXPROCS from the environment; server.gomaxprocs not applied", "GOMAXPROCS", v)
		return runtime.GOMAXPROCS(0)
	}
	n := setting
	if n <= 0 {
		n = defaultProcs + loops
	}
	was := runtime.GOMAXPROCS(n)
	log.Info("go runtime processors", "gomaxprocs", n, "was", was, "event_loops", loops, "cpus", runtime.NumCPU())
	return n
}

// Alive reports whether the gateway can still do its work: a read of the
// store completes before ctx ends (the systemd watchdog asks).
func (d *Daemon) Alive(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- d.DB.View(func(*store.Tx) error { return nil }) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RunningConfig is what GET /config on the admin listener answers: the
// configuration and key file the gateway runs with, flattened (keys as
// fingerprints), for `ecardgw config check`.
type RunningConfig struct {
	ConfigFile string      `json:"config_file"`
	Values     config.Flat `json:"values"`
	// Env are the ECARDGW_* overrides the gateway started with (a unit's
	// Environment= lines), which a reload applies again: the check must
	// load the file with them to compare like with like.
	Env map[string]string `json:"env"`
}

func (d *Daemon) serveConfig(w http.ResponseWriter, _ *http.Request) {
	d.mu.Lock()
	rc := RunningConfig{ConfigFile: d.opts.ConfigPath, Values: config.Flatten(d.cfg, d.keys), Env: d.env}
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(rc)
}
