package txn

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"ecardgw/codec/mac"
	"ecardgw/store"
)

// sessionState is an immutable snapshot of a terminal's session; a change
// replaces the pointer, so request paths read it without locks.
type sessionState struct {
	mak, pik     []byte
	macKey       *mac.Key // mak's prepared schedule, shared read-only (nil: mak unusable)
	batch        uint32
	batchOpen    bool
	blacklistVer uint32
	signedIn     time.Time
}

type sessionEntry struct {
	st          atomic.Pointer[sessionState] // nil: signed out
	macFails    atomic.Int32
	lastSign    atomic.Int64 // sign-in storm limit: GCRA arrival time, unix nanos (signin_limit.go)
	lastSignOut atomic.Int64 // the same for sign-outs without a MAC (LegacySignOut)
}

// sessionCache mirrors the store's sessions in memory. The store is the
// truth (promise 4: a restart signs no one out); the cache is filled on
// first use after a restart.
type sessionCache struct {
	mu sync.RWMutex
	m  map[string]*sessionEntry
}

func (c *sessionCache) init() { c.m = make(map[string]*sessionEntry) }

func (c *sessionCache) entry(term string) *sessionEntry {
	c.mu.RLock()
	en := c.m[term]
	c.mu.RUnlock()
	if en != nil {
		return en
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if en = c.m[term]; en == nil {
		en = new(sessionEntry)
		c.m[term] = en
	}
	return en
}

func (c *sessionCache) peek(term []byte) *sessionEntry {
	c.mu.RLock()
	en := c.m[string(term)]
	c.mu.RUnlock()
	return en
}

// session returns the terminal's current session, loading it from the store
// after a restart. nil means not signed in. The session may have expired
// (expired): the callers decide what that means for them.
func (e *Engine) session(term string) (*sessionEntry, *sessionState, error) {
	if en := e.sessions.peek([]byte(term)); en != nil {
		if st := en.st.Load(); st != nil {
			return en, st, nil
		}
	}
	var st *sessionState
	err := e.db.View(func(tx *store.Tx) error {
		s, ok, err := tx.Session(term)
		if err != nil || !ok || len(s.MAK) == 0 {
			return err
		}
		st = &sessionState{mak: s.MAK, macKey: prepared(s.MAK), pik: s.PIK, batch: s.Batch, batchOpen: s.BatchOpen,
			blacklistVer: s.BlacklistVersion, signedIn: s.SignedIn}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if st != nil && st.signedIn.IsZero() {
		e.stampSignIn(term, st)
	}
	en := e.sessions.entry(term)
	if st != nil {
		en.st.CompareAndSwap(nil, st)
		st = en.st.Load()
	}
	return en, st, nil
}

// stampSignIn gives a stored session without a sign-in time (none that
// this gateway writes: every sign-in is stamped) the time it is loaded, so
// that its keys expire one lifetime from now rather than at once, and
// writes that time back so that a restart does not start the lifetime
// again. Should the write fail, the session expires one lifetime after
// its next load instead.
func (e *Engine) stampSignIn(term string, st *sessionState) {
	st.signedIn = e.now().UTC()
	err := e.db.Update(context.Background(), func(tx *store.Tx) error {
		s, ok, err := tx.Session(term)
		if err != nil || !ok || !s.SignedIn.IsZero() || !bytes.Equal(s.MAK, st.mak) {
			return err // replaced (or stamped) meanwhile: leave it
		}
		s.SignedIn = st.signedIn
		return tx.PutSession(&s)
	})
	if err != nil {
		e.log.Error("session without a sign-in time not stamped", "terminal", term, "err", err)
	}
}

// expired reports whether a session's working keys have outlived the
// session lifetime.
func (e *Engine) expired(st *sessionState) bool {
	return e.now().Sub(st.signedIn) >= e.lifetime
}

// endSession signs the terminal out of session st: in the store, inside
// the transaction and only if the stored session is still st's (its MAK:
// working keys are random, a later sign-in has other ones), then in
// memory if it is still st there.
func (e *Engine) endSession(ctx context.Context, en *sessionEntry, term string, st *sessionState) error {
	err := e.db.Update(ctx, func(tx *store.Tx) error {
		s, ok, err := tx.Session(term)
		if err != nil || !ok || !bytes.Equal(s.MAK, st.mak) {
			return err
		}
		return persistSession(tx, term, nil)
	})
	if err != nil {
		return err
	}
	en.st.CompareAndSwap(st, nil)
	return nil
}

// expireSession ends a session whose keys expired, once: the request that
// finds it expired first removes it (one store write); the others, and
// every request until the terminal signs in, find no session.
func (e *Engine) expireSession(en *sessionEntry, term string, st *sessionState) {
	if en.st.Load() != st {
		return
	}
	if err := e.endSession(context.Background(), en, term, st); err != nil {
		e.log.Error("expired session not removed", "terminal", term, "err", err)
		return
	}
	e.log.Info("working keys expired: terminal must sign in again", "terminal", term)
}

// persistSession writes a session snapshot inside tx.
func persistSession(tx *store.Tx, term string, st *sessionState) error {
	s := store.Session{Terminal: term}
	if st != nil {
		s.PIK, s.MAK = st.pik, st.mak
		s.Batch, s.BatchOpen = st.batch, st.batchOpen
		s.SignedIn, s.BlacklistVersion = st.signedIn, st.blacklistVer
	}
	return tx.PutSession(&s)
}

// handle0800 answers network management requests: sign-in and blacklist
// download.
func (e *Engine) handle0800(ctx context.Context, w *work) ([]byte, RC) {
	f60, err := w.req.F60()
	if err != nil || !w.req.Has(11) || !w.req.Has(41) || !w.req.Has(42) {
		w.why("field 11, 41, 42 or 60 missing or unreadable")
		return e.plainAnswer(w, RCFormat, nil), RCFormat
	}
	term := e.terms.get(w.req.TerminalID())
	if term == nil || string(w.req.MerchantID()) != term.Merchant {
		w.why(unknownTerminal(term))
		return e.plainAnswer(w, RCUnknownTerm, nil), RCUnknownTerm
	}
	switch f60.Network {
	case nmSignIn:
		return e.signIn(ctx, w, term, f60.Batch)
	case nmBlacklist:
		return e.blacklistDownload(ctx, w, term)
	}
	return e.plainAnswer(w, RCFormat, nil), RCFormat
}

// signIn draws fresh working keys, stores the session durably and sends the
// keys wrapped under the terminal's master key.
func (e *Engine) signIn(ctx context.Context, w *work, term *Terminal, batch uint32) ([]byte, RC) {
	if e.signInLimited(term) {
		w.why("sign-in storm limit")
		return e.plainAnswer(w, RCSystem, nil), RCSystem
	}
	// PIK (16) then MAK (8, or 16 for a double-length MAK), in one draw.
	var keys [32]byte
	n := 24
	if term.DoubleMAK {
		n = 32
	}
	if _, err := io.ReadFull(e.rand, keys[:n]); err != nil {
		e.log.Error("sign-in: no randomness", "err", err)
		return e.plainAnswer(w, RCSystem, nil), RCSystem
	}
	pik := bytes.Clone(keys[:16])
	mak := bytes.Clone(keys[16:n])
	clear(keys[:])
	encPIK, err1 := mac.Wrap(term.TMK, pik)
	encMAK, err2 := mac.Wrap(term.TMK, mak)
	if err1 != nil || err2 != nil {
		return e.plainAnswer(w, RCSystem, nil), RCSystem
	}
	cvPIK, cvMAK := mac.CheckValue(pik), mac.CheckValue(mak)
	now := e.now().UTC()
	en := e.sessions.entry(term.ID)
	prev := en.st.Load()
	st := &sessionState{mak: mak, macKey: prepared(mak), pik: pik, batch: batch, batchOpen: true, signedIn: now}
	if prev != nil {
		st.blacklistVer = prev.blacklistVer
	}

	req, r := &w.req, &w.resp
	stan, _ := req.STAN()
	var answer []byte
	err := e.db.Update(ctx, func(tx *store.Tx) error {
		bt, ok, err := tx.Batch(term.ID, batch)
		if err != nil {
			return err
		}
		if !ok || bt.Closed {
			bt = store.BatchTotals{Terminal: term.ID, Batch: batch, DebitFen: bt.DebitFen,
				DebitCount: bt.DebitCount, CreditFen: bt.CreditFen, CreditCount: bt.CreditCount}
			if err := tx.PutBatch(&bt); err != nil {
				return err
			}
		}
		if err := persistSession(tx, term.ID, st); err != nil {
			return err
		}
		rrn, err := tx.NextRRN()
		if err != nil {
			return err
		}
		r.SetResponseFrom(req, 11, 41, 42, 60)
		r.Header = req.Header.Reply(procNone)
		e.stampTime(r)
		w.tmp = appendRRN(w.tmp[:0], rrn)
		_ = r.SetBytes(37, w.tmp)
		_ = r.SetString(39, string(RCApproved))
		// PIK under TMK (16) · check (4) · MAK under TMK (8 or 16) · check (4)
		f62 := make([]byte, 0, 40)
		f62 = append(f62, encPIK...)
		f62 = append(f62, cvPIK[:]...)
		f62 = append(f62, encMAK...)
		f62 = append(f62, cvMAK[:]...)
		_ = r.SetBytes(62, f62)
		out, err := encodeResp(w, nil)
		if err != nil {
			return err
		}
		answer = out
		_, err = tx.AppendJournal(&store.Record{Time: now, Key: store.IdemKey{Terminal: term.ID, Batch: batch, STAN: stan, MTI: uint16(req.MTI)},
			Kind: store.KindSignIn, Resp: string(RCApproved), RRN: string(w.tmp), Location: term.Location})
		return err
	})
	if err != nil {
		e.log.Error("sign-in not stored", "terminal", term.ID, "err", err)
		return e.plainAnswer(w, RCSystem, nil), RCSystem
	}
	en.st.Store(st)
	en.macFails.Store(0)
	e.obs.SignIn()
	e.log.Info("terminal signed in", "terminal", term.ID, "batch", batch, "remote", remoteString(w.remote))
	return answer, RCApproved
}

// handle0820 answers echo tests and sign-out.
func (e *Engine) handle0820(ctx context.Context, w *work) ([]byte, RC) {
	f60, err := w.req.F60()
	if err != nil {
		return e.plainAnswer(w, RCFormat, nil), RCFormat
	}
	term := e.terms.get(w.req.TerminalID())
	if term == nil || string(w.req.MerchantID()) != term.Merchant {
		w.why(unknownTerminal(term))
		return e.plainAnswer(w, RCUnknownTerm, nil), RCUnknownTerm
	}
	switch f60.Network {
	case nmEcho:
		return e.plainAnswer(w, RCApproved, nil), RCApproved
	case nmSignOut:
		return e.signOut(ctx, w, term, f60)
	}
	return e.plainAnswer(w, RCFormat, nil), RCFormat
}

// Sessions counts the terminals signed in with keys that have not expired
// (those this process has seen since it started; a terminal signed in
// before a restart counts from its first request).
func (e *Engine) Sessions() int {
	e.sessions.mu.RLock()
	defer e.sessions.mu.RUnlock()
	n := 0
	for _, en := range e.sessions.m {
		if st := en.st.Load(); st != nil && !e.expired(st) {
			n++
		}
	}
	return n
}

// prepared builds a session MAK's cipher schedule once, for every request
// of the session to share (nil if the key is unusable: MACs then fail).
// The MAK's length chooses the MAC: 8 bytes UnionPay ECB, 16 bytes ANSI
// X9.19 (mac.NewMAK), so a session restored from the store MACs as it did
// when it was signed in.
func prepared(mak []byte) *mac.Key {
	k, err := mac.NewMAK(mak)
	if err != nil {
		return nil
	}
	return k
}
