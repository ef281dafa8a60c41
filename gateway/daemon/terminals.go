package daemon

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"ecardgw/gateway/admin"
	"ecardgw/gateway/config"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// Per-terminal view and decline trace.
//
// termTracker is the engine's OutcomeObserver: for each configured
// terminal it keeps when it was last seen and from where, its request rate
// and its last response codes (`ecardgw terminals`, GET /terminals), and
// it logs every decline with the terminal, merchant, remote address, code
// and the engine's reason, at most declineLogBurst lines per terminal a
// minute (the count of the suppressed ones goes into the next line).
// Unconfigured terminal ids share one such limit, and get no view: a
// scan of random ids must not grow the tracker.
type termTracker struct {
	log *slog.Logger
	now func() time.Time

	mu       sync.RWMutex
	stats    map[string]*termStat // configured terminals, enabled or not
	disabled map[string]bool
	unknown  termStat // the shared log limit of ids not configured
}

// declineLogBurst is how many decline lines a terminal gets a minute.
const declineLogBurst = 5

// lastCodes is how many response codes the view keeps per terminal.
const lastCodes = 10

type termStat struct {
	mu       sync.Mutex
	lastSeen time.Time
	remote   net.Addr
	requests uint64
	declines uint64
	minute   int64  // the unix minute cur counts
	cur      uint32 // requests in that minute
	prev     uint32 // requests in the minute before
	codes    [lastCodes]codeSeen
	n, next  int // codes held, next slot

	logMinute  int64
	logged     int
	suppressed int
}

type codeSeen struct {
	at     time.Time
	mti    uint16
	rc     txn.RC
	note   string
	remote net.Addr
}

func newTermTracker(log *slog.Logger, terms []config.Terminal) *termTracker {
	t := &termTracker{log: log, now: time.Now}
	t.setTerminals(terms)
	return t
}

// setTerminals applies the configured terminal list (start and reload):
// terminals that remain keep what was seen of them.
func (t *termTracker) setTerminals(terms []config.Terminal) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.stats
	t.stats = make(map[string]*termStat, len(terms))
	t.disabled = make(map[string]bool)
	for _, c := range terms {
		s := old[c.ID]
		if s == nil {
			s = new(termStat)
		}
		t.stats[c.ID] = s
		if c.Disabled {
			t.disabled[c.ID] = true
		}
	}
}

// Outcome records an answer and logs it if it is a decline.
func (t *termTracker) Outcome(o *txn.Outcome) {
	now := t.now().UTC()
	t.mu.RLock()
	s := t.stats[string(o.Terminal)]
	disabled := s != nil && t.disabled[string(o.Terminal)]
	t.mu.RUnlock()
	note := o.Note
	if disabled && o.RC == txn.RCUnknownTerm {
		note = "terminal disabled (ecardgw terminals enable)"
	}
	decline := o.RC != txn.RCApproved
	lim := s
	if lim == nil {
		lim = &t.unknown
	} else {
		s.record(now, o, note, decline)
	}
	if !decline {
		return
	}
	ok, suppressed := lim.allowLog(now)
	if !ok {
		return
	}
	attrs := []any{"terminal", string(o.Terminal), "merchant", string(o.Merchant), "remote", addrString(o.Remote),
		"mti", mtiString(o.MTI), "rc", string(o.RC), "reason", note}
	if o.Retransmission {
		attrs = append(attrs, "retransmission", true)
	}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed_before", suppressed)
	}
	t.log.Info("request declined", attrs...)
}

func (s *termStat) record(now time.Time, o *txn.Outcome, note string, decline bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSeen = now
	if o.Remote != nil {
		s.remote = o.Remote
	}
	s.requests++
	if decline {
		s.declines++
	}
	s.roll(now)
	s.cur++
	s.codes[s.next] = codeSeen{at: now, mti: o.MTI, rc: o.RC, note: note, remote: o.Remote}
	s.next = (s.next + 1) % lastCodes
	s.n = min(s.n+1, lastCodes)
}

// roll moves the minute counters to now's minute.
func (s *termStat) roll(now time.Time) {
	m := now.Unix() / 60
	switch {
	case m == s.minute:
	case m == s.minute+1:
		s.minute, s.prev, s.cur = m, s.cur, 0
	default:
		s.minute, s.prev, s.cur = m, 0, 0
	}
}

// rate is the requests of the last 60 s: this minute's, and the part of
// the previous minute's that falls within them.
func (s *termStat) rate(now time.Time) float64 {
	s.roll(now)
	frac := float64(now.Unix()%60) / 60
	return float64(s.cur) + float64(s.prev)*(1-frac)
}

// allowLog reports whether a decline line may be logged now, and how
// many were suppressed since the last one that was.
func (s *termStat) allowLog(now time.Time) (bool, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := now.Unix() / 60
	if m != s.logMinute {
		s.logMinute, s.logged = m, 0
	}
	if s.logged >= declineLogBurst {
		s.suppressed++
		return false, 0
	}
	s.logged++
	n := s.suppressed
	s.suppressed = 0
	return true, n
}

// view fills the seen part of a terminal's view.
func (s *termStat) view(now time.Time, v *admin.Terminal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lastSeen.IsZero() {
		at := s.lastSeen
		v.LastSeen = &at
	}
	v.Remote = addrString(s.remote)
	v.Requests, v.Declines = s.requests, s.declines
	v.RequestsPerMinute = s.rate(now)
	v.LastCodes = make([]admin.CodeSeen, 0, s.n)
	for i := 1; i <= s.n; i++ {
		c := s.codes[(s.next-i+lastCodes)%lastCodes]
		v.LastCodes = append(v.LastCodes, admin.CodeSeen{At: c.at, MTI: mtiString(c.mti), RC: string(c.rc), Note: c.note,
			Remote: addrString(c.remote)})
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// mtiString writes an MTI as its four digits ("0200").
func mtiString(m uint16) string {
	b := [4]byte{'0' + byte(m/1000%10), '0' + byte(m/100%10), '0' + byte(m/10%10), '0' + byte(m%10)}
	return string(b[:])
}

// terminals answers GET /terminals and /terminals/{id}: the configured
// terminals with their sessions (from the store) and what was seen.
func (d *Daemon) terminals(_ context.Context, id string) ([]admin.Terminal, bool, error) {
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	now := time.Now().UTC()
	var out []admin.Terminal
	err := d.DB.View(func(tx *store.Tx) error {
		for _, c := range cfg.Terminals {
			if id != "" && c.ID != id {
				continue
			}
			v := admin.Terminal{ID: c.ID, Merchant: c.Merchant, Type: string(c.Type), Location: c.Location, Disabled: c.Disabled}
			s, ok, err := tx.Session(c.ID)
			if err != nil {
				return err
			}
			if ok {
				at := s.SignedIn
				exp := at.Add(d.sessionLifetime(cfg))
				v.SignedInAt, v.KeysExpire = &at, &exp
				v.Batch, v.BatchOpen = s.Batch, s.BatchOpen
				v.SignedIn = !c.Disabled && now.Before(exp) && len(s.MAK) > 0
			}
			d.terms.mu.RLock()
			st := d.terms.stats[c.ID]
			d.terms.mu.RUnlock()
			if st != nil {
				st.view(now, &v)
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(out, func(a, b admin.Terminal) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, id == "" || len(out) > 0, nil
}

// sessionLifetime is session.key_lifetime with the engine's default.
func (d *Daemon) sessionLifetime(cfg *config.Config) time.Duration {
	if cfg.Session.KeyLifetime > 0 {
		return cfg.Session.KeyLifetime
	}
	return txn.DefaultSessionLifetime
}
