package txn

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/gateway/campuscode"
	"ecardgw/store"
)

// Config is what the engine needs from the gateway's configuration.
type Config struct {
	DB        *store.DB
	Terminals []Terminal
	Limits    Limits
	// WireZone is the local time zone of fields 12/13 (default UTC+8, China
	// Standard Time, which is what every campus POS shows).
	WireZone *time.Location
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Rand is the source of working keys (crypto/rand when nil).
	Rand     io.Reader
	Logger   *slog.Logger
	Observer Observer
	// Campus verifies campus codes; nil disables them.
	Campus *campuscode.Verifier
	// WalletMasterKey is the small wallet's master load key (16 bytes,
	// from the key file); nil refuses loads with 96. It serves every key
	// version (DF08) not in WalletMasterKeys.
	WalletMasterKey []byte
	// WalletMasterKeys are master load keys by the key version the card
	// reports in DF08, so that the load key can be rotated.
	WalletMasterKeys map[byte][]byte
	// LossBlocksCampusCode makes a reported loss stop campus codes too.
	LossBlocksCampusCode bool
	// Payments is the third-party payment interface (the centre's, or
	// payments.url in standalone mode); nil answers payment codes 91.
	Payments Payments
	// Poll bounds the "user is paying" wait (defaults 30 s and 1 s).
	Poll PollPolicy
	// MaxPendingPayments bounds the code payments waiting for their
	// channel, all terminals together (default 1024), and
	// MaxPendingPerTerminal those of one terminal (default 2); past
	// either a new code payment is refused at once with P4.
	MaxPendingPayments    int
	MaxPendingPerTerminal int
	// PayRetryMax caps the backoff between attempts of a queued channel
	// cancel or refund (default 5 min; the first retry is after 1 s).
	PayRetryMax time.Duration
	// Centre makes the engine run in connected mode: the centre authorizes
	// online and the store is its replica; nil is standalone mode.
	Centre Centre
	// CentreTimeout bounds an online authorization (default 1.5 s); then
	// the engine stands in.
	CentreTimeout time.Duration
	// StandIn limits what is approved while the centre does not answer.
	StandIn StandInLimits
	// SharedReplay, when set, is the campus-code replay record shared with
	// the other campuses' gateways.
	SharedReplay SharedReplay
	// MaxMACFailures is how many consecutive MAC failures make a terminal
	// sign in again (default 5).
	MaxMACFailures int
	// SessionLifetime is how long the working keys of a sign-in are good
	// for (default 24 h): from then on the terminal's financial requests
	// are answered 77 with processing requirement 3 until it signs in
	// again. It runs from the sign-in time sealed with the session, so a
	// restart neither extends nor shortens it.
	SessionLifetime time.Duration
}

// DefaultSessionLifetime is SessionLifetime's default.
const DefaultSessionLifetime = 24 * time.Hour

// Limits are the ledger's amount limits, in fen.
type Limits struct {
	DailyFen     int64 // per account per UTC day for purchases; 0 = none
	TopUpMaxFen  int64 // single top-up ceiling (default 99900)
	WalletLimit  int64 // small wallet ceiling (default 1000)
	SingleTxnMax int64 // single purchase ceiling; 0 = none
	AdviceMaxFen int64 // one offline advice's ceiling (default 20000): above it 13, journaled as an exception
}

// Engine answers terminal requests. It is safe for concurrent use.
type Engine struct {
	db       *store.DB
	terms    terminals
	zone     *time.Location
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	obs      Observer
	maxMACFa int
	lifetime time.Duration // SessionLifetime

	sessions sessionCache
	work     sync.Pool

	payments       Payments
	poll           PollPolicy
	pays           payRegistry
	jobs           jobRunner
	centre         Centre
	shared         SharedReplay
	centreTimeout  time.Duration
	replica        replicaVersions
	live           atomic.Pointer[live] // what a reload may change: see reload.go
	liveSettingsMu sync.Mutex           // serialises the setters of live

	blacklistVersion atomic.Uint32
}

// New builds an engine over an open store.
func New(cfg Config) (*Engine, error) {
	if cfg.DB == nil {
		return nil, ErrNoStore
	}
	e := &Engine{
		db:       cfg.DB,
		zone:     cfg.WireZone,
		now:      cfg.Now,
		rand:     cfg.Rand,
		log:      cfg.Logger,
		obs:      cfg.Observer,
		maxMACFa: cfg.MaxMACFailures,
		lifetime: cfg.SessionLifetime,

		payments:      cfg.Payments,
		poll:          cfg.Poll,
		centre:        cfg.Centre,
		shared:        cfg.SharedReplay,
		centreTimeout: cfg.CentreTimeout,
	}
	e.live.Store(&live{})
	e.SetLimits(cfg.Limits)
	e.SetStandIn(cfg.StandIn)
	e.SetCampus(cfg.Campus, cfg.LossBlocksCampusCode)
	e.SetWalletKeys(WalletKeys{Default: cfg.WalletMasterKey, ByVersion: cfg.WalletMasterKeys})
	if e.centreTimeout <= 0 {
		e.centreTimeout = 1500 * time.Millisecond
	}
	if e.poll.Limit <= 0 {
		e.poll.Limit = 30 * time.Second
	}
	if e.poll.Interval <= 0 {
		e.poll.Interval = time.Second
	}
	e.pays.max, e.pays.maxTerm = cfg.MaxPendingPayments, cfg.MaxPendingPerTerminal
	if e.pays.max <= 0 {
		e.pays.max = DefaultMaxPendingPayments
	}
	if e.pays.maxTerm <= 0 {
		e.pays.maxTerm = DefaultMaxPendingPerTerminal
	}
	e.jobs.maxBackoff = cfg.PayRetryMax
	if e.jobs.maxBackoff <= 0 {
		e.jobs.maxBackoff = 5 * time.Minute
	}
	if e.zone == nil {
		e.zone = time.FixedZone("CST", 8*3600)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.rand == nil {
		e.rand = rand.Reader
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.obs == nil {
		e.obs = nopObserver{}
	}
	if e.maxMACFa <= 0 {
		e.maxMACFa = 5
	}
	if e.lifetime <= 0 {
		e.lifetime = DefaultSessionLifetime
	}
	if err := e.SetTerminals(cfg.Terminals); err != nil {
		return nil, err
	}
	e.sessions.init()
	e.work.New = func() any {
		w := new(work)
		w.decide = w.call.decide
		return w
	}
	if err := e.db.View(func(tx *store.Tx) error {
		v, err := tx.BlacklistVersion()
		e.blacklistVersion.Store(v)
		return err
	}); err != nil {
		return nil, fmt.Errorf("txn: reading the blacklist version: %w", err)
	}
	return e, nil
}

// SetTerminals replaces the terminal table (SIGHUP reload). Sessions of
// terminals that remain with the same master key are kept. A removed (or
// disabled) terminal can no longer transact, and its session ends, as does
// that of a terminal whose master key changed: added again, it must sign
// in and get working keys under its present master key.
func (e *Engine) SetTerminals(list []Terminal) error {
	for i := range list {
		t := &list[i]
		if len(t.ID) != 8 {
			return fmt.Errorf("txn: terminal id %q: want 8 characters", t.ID)
		}
		if len(t.Merchant) != 15 {
			return fmt.Errorf("txn: terminal %s: merchant id must be 15 characters", t.ID)
		}
		if len(t.TMK) != 16 {
			return fmt.Errorf("txn: terminal %s: master key must be 16 bytes", t.ID)
		}
		if t.Type == 0 {
			return fmt.Errorf("txn: terminal %s: no type", t.ID)
		}
	}
	old := e.terms.p.Load()
	e.terms.set(list)
	if old == nil {
		return nil // New: no sessions in use yet
	}
	now := e.terms.p.Load()
	var ended []string
	for id, t := range old.byID {
		if n, ok := now.byID[id]; !ok || !bytes.Equal(n.TMK, t.TMK) {
			ended = append(ended, id)
		}
	}
	if err := e.EndSessions(context.Background(), ended); err != nil {
		return fmt.Errorf("txn: ending the sessions of removed or rekeyed terminals: %w", err)
	}
	return nil
}

// work is the per-request scratch space, pooled so that the hot path does
// not allocate messages or buffers.
type work struct {
	call   call
	decide func(*store.Tx) error // call.decide, bound once
	mac    mac.Key
	req    iso8583.Message
	resp   iso8583.Message
	buf    []byte
	tmp    []byte
	remote net.Addr // the connection's peer, for the Outcome (nil when unknown)
	note   string   // why a request outside a call was declined (observer.go)
	out    Outcome  // handed to an OutcomeObserver: pooled, so reporting does not allocate
}

// Handle answers one complete frame (LEN included). The returned answer is
// owned by the caller. A nil answer means the frame cannot be answered: the
// server closes the connection (promise 5). A request that needs a slow
// dependency (a payment channel, the centre) is waited for here; a server
// that can answer later uses HandleAsync instead.
func (e *Engine) Handle(ctx context.Context, frame []byte) (answer []byte) {
	answer, _ = e.handle(ctx, nil, frame, nil)
	return answer
}

// HandleFrom is Handle for a frame from remote, the terminal's address,
// which the Outcome reports (observer.go).
func (e *Engine) HandleFrom(ctx context.Context, remote net.Addr, frame []byte) (answer []byte) {
	answer, _ = e.handle(ctx, remote, frame, nil)
	return answer
}

// HandleAsync is HandleFrom for a caller that can take the answer later: a
// request that needs the payment channel, the centre or the shared replay
// record is carried on by timers and the dependency's answers, HandleAsync
// returns deferred at once, and done is called with the answer (nil:
// close the connection) from another goroutine. frame must stay valid
// until then. A financial request that needs only the store is deferred
// too, once the work before its transaction is done: done is called from
// the store's completer when its group commit has been fsynced, so no
// caller is held while a group commits. Every other request (sign-in,
// echo, a retransmission answered from the record, a refusal before the
// store) is answered at once (deferred false, done never called).
func (e *Engine) HandleAsync(ctx context.Context, remote net.Addr, frame []byte, done func(answer []byte)) (answer []byte, deferred bool) {
	return e.handle(ctx, remote, frame, done)
}

func (e *Engine) handle(ctx context.Context, remote net.Addr, frame []byte, done func([]byte)) ([]byte, bool) {
	start := e.now()
	w := e.work.Get().(*work)
	w.req.Reset()
	w.resp.Reset()
	w.remote, w.note, w.call.note, w.call.codeReason = remote, "", "", ""
	if err := iso8583.DecodeFrame(&w.req, frame); err != nil {
		answer := e.formatError(w, frame, err)
		e.work.Put(w)
		return answer, false
	}
	mti := uint16(w.req.MTI)
	var answer []byte
	var rc RC
	retrans := false
	switch mti {
	case mti0800:
		answer, rc = e.handle0800(ctx, w)
	case mti0820:
		answer, rc = e.handle0820(ctx, w)
	case mti0100, mti0200, mti0220, mti0400, mti0500:
		c, refusal, rc0 := e.accept(w)
		if c == nil {
			answer, rc = refusal, rc0
			break
		}
		e.preverify(c)
		switch {
		case done != nil && e.slow(c):
			// The worker goes back to the other terminals; this request
			// is finished by its dependency's answers.
			go e.financialLater(ctx, c, start, done)
			return nil, true
		case e.isCodePayment(c):
			ch := make(chan []byte, 1)
			e.codePayment(ctx, c, start, func(a []byte) { ch <- a })
			return <-ch, false
		case done != nil:
			var deferred bool
			answer, rc, retrans, deferred = e.financialAsync(ctx, c, start, done)
			if deferred {
				return nil, true
			}
		default:
			answer, rc, retrans = e.financial(ctx, c)
		}
	default:
		e.obs.FrameError("unknown_mti")
		answer, rc = e.plainAnswer(w, RCFormat, nil), RCFormat
	}
	return e.answered(w, mti, rc, retrans, start, answer), false
}

// answered ends a request: it is counted and reported (observer.go), its
// work goes back to the pool, and the answer is returned — or none at all
// when the store can no longer tell what is on disk: a commit failed after
// it may have reached the file, so what the answer says (approved, or 96)
// may be untrue once the store is opened again. The terminal then
// retransmits to the restarted gateway, which answers from the disk.
func (e *Engine) answered(w *work, mti uint16, rc RC, retrans bool, start time.Time, answer []byte) []byte {
	if e.db.Broken() {
		answer, rc = nil, RCSystem
	}
	e.obs.Request(mti, rc, retrans, e.now().Sub(start))
	e.report(w, mti, rc, retrans)
	e.work.Put(w)
	return answer
}

// financialLater finishes a deferred financial request on its own
// goroutine (a payment code: on the payment's timers and answers).
func (e *Engine) financialLater(ctx context.Context, c *call, start time.Time, done func([]byte)) {
	if e.isCodePayment(c) {
		e.codePayment(ctx, c, start, done)
		return
	}
	answer, rc, retrans := e.financial(ctx, c)
	done(e.answered(c.w, c.mti, rc, retrans, start, answer))
}

// slow reports whether a request needs a dependency that may take time:
// the payment channel, the centre (connected mode) or the shared replay
// record. Such a request never holds a server worker.
func (e *Engine) slow(c *call) bool {
	switch {
	case e.isCodePayment(c):
		return true
	case e.payments != nil && c.mti == mti0200 && c.proc == PCRefund:
		return true
	case e.centre != nil && c.centreKind() != "":
		return true
	case e.shared != nil && c.code != nil && c.code.err == nil:
		return true
	}
	return false
}
