package txn

import (
	"sync/atomic"
	"time"
)

// The sign-in storm limit. A sign-in costs a random draw, two key wraps and
// an fsynced store transaction, and it replaces the terminal's working
// keys; a terminal (or something pretending to be one) that signs in
// hundreds of times a second would otherwise take the committer's time
// from every other terminal. Each terminal gets a burst of signInBurst
// sign-ins and then one per signInInterval (5 a second sustained), which
// no real POS comes near: it signs in at power-on, per batch and after a
// 77/A0.
//
// An excess sign-in is answered 96 ("system error, try again later", the
// POS retries) without touching the store, and the terminal's current
// session stays as it was: the keys it already holds keep working.
const (
	signInInterval = 200 * time.Millisecond
	signInBurst    = 5
)

// allowSignIn applies the limit to a sign-in of the terminal.
func (en *sessionEntry) allowSignIn(now time.Time) bool { return gcraAllow(&en.lastSign, now) }

// allowSignOut applies the same limit, in a bucket of its own, to a
// sign-out without a MAC (a terminal with LegacySignOut; signout.go).
func (en *sessionEntry) allowSignOut(now time.Time) bool { return gcraAllow(&en.lastSignOut, now) }

// gcraAllow is a GCRA (a token bucket kept as one number): cell holds the
// theoretical arrival time of the next request in unix nanoseconds. A
// request is allowed while that time is at most (burst-1) intervals ahead
// of now; each allowed one moves it one interval further. A CAS loop keeps
// it lock-free for concurrent requests of the same terminal.
func gcraAllow(cell *atomic.Int64, now time.Time) bool {
	const tau = int64((signInBurst - 1) * signInInterval)
	t := now.UnixNano()
	for {
		old := cell.Load()
		tat := max(old, t)
		if tat-t > tau+int64(signInInterval) {
			// Never more than one interval beyond the limit unless the
			// wall clock was set back (NTP step, operator): start afresh
			// rather than refuse every sign-in until the clock catches up.
			tat = t
		}
		if tat-t > tau {
			return false
		}
		if cell.CompareAndSwap(old, tat+int64(signInInterval)) {
			return true
		}
	}
}

// signInLimited reports whether the terminal's sign-in must be refused by
// the storm limit. Refusals are counted by the request metric (0800, 96);
// they are logged at debug level only, because a storm would otherwise
// flood the log at the storm's own rate.
func (e *Engine) signInLimited(term *Terminal) bool {
	if e.sessions.entry(term.ID).allowSignIn(e.now()) {
		return false
	}
	e.log.Debug("sign-in refused: more than the storm limit", "terminal", term.ID)
	return true
}
