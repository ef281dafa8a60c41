package txn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/store"
)

// A financial request (0100, 0200, 0220, 0400, 0500) goes through this
// file from top to bottom:
//
//  1. accept: the terminal, its session, the MAC, what the terminal's type
//     may send, the open batch.
//  2. beforeStore: the work that needs no store and may take time, done
//     before the store transaction so that it never holds a group commit:
//     the campus code's signatures and shared claim (campuscode.go), the
//     payment channel (payments.go), the centre's online authorization
//     (connected.go). Each step answers a retransmission from the
//     idempotency record.
//  3. decide, the store transaction: the idempotency record, the rule for
//     the request's type (execute: purchase.go, refund.go, kiosk.go, ...),
//     and finish, which builds the answer and writes it with the journal
//     record(s) and the ledger change.
//  4. afterCommit: what follows once the answer is durable.

// call carries one financial request through its store transaction. The
// store may run the transaction function more than once (group commit
// retry), so each run starts with reset: what was decided before the
// transaction is kept as a whole, the decision and the answer's fields
// start from zero.
type call struct {
	preTxn           // decided before the store transaction; kept by reset
	tx     *store.Tx // this run's transaction
	decision
	reply
}

// preTxn is what is known or decided before the store transaction: the
// request, and the outcomes of the work done outside it. A field added
// here is kept across runs of the transaction function, with no list to
// update.
type preTxn struct {
	e    *Engine
	w    *work
	term *Terminal
	en   *sessionEntry
	st   *sessionState
	key  store.IdemKey
	mti  uint16
	proc uint32
	now  time.Time

	fp          store.Fingerprint // the request's content (retransmit.go)
	code        *preverified      // campus code verified before the transaction
	codeClaimed bool              // the campus code was claimed before asking the centre
	pay         *payOutcome       // third-party channel outcome
	payIntent   bool              // the request has a payment intent, removed with its answer
	payJob      *store.PayJob     // a channel call owed, queued with the answer
	reserved    bool              // a third-party refund's amount is reserved in its purchase
	online      *AuthResult       // the centre's decision (connected mode)
	unreachable bool              // the centre did not answer: stand in
	readOnly    bool              // answered from a read transaction: nothing is written
}

// decision is what the rules decide in one run of the transaction
// function.
type decision struct {
	rc         RC
	rec        store.Record    // the request's journal record
	extra      []store.Record  // further journal records (e.g. water consumption)
	settled    *store.Record   // a reversed load debited again (wallet.go), keyed by that load
	state      *store.TxnState // this request's approved transaction, stored with its answer
	hasBal     bool
	bal        int64
	hasWal     bool
	wal        int64
	codeReason string // campus code result label for metrics
	note       string // why the request was declined, for the Outcome (declineWhy)
	closeBatch bool
	jobs       bool // channel calls were queued: run the retry queue after the commit
}

// reply is what the answer carries besides the decision, and the encoded
// answer itself.
type reply struct {
	channel store.Channel // field 44 of a scanned code's answer, and the journal's channel
	f48     []byte
	f55     []byte
	f62     []byte
	f63     []byte

	answer  []byte // the encoded answer
	retrans bool   // answer is the one stored for an earlier copy of the request
}

// reset starts a run of the transaction function.
func (c *call) reset(tx *store.Tx) {
	*c = call{preTxn: c.preTxn, tx: tx}
	c.rec = store.Record{Time: c.now, Key: c.key, ProcCode: c.proc, Location: c.term.Location}
}

// putState keeps an approved transaction's state to be stored with this
// request's answer (one write of one key), or updates another request's.
func (c *call) putState(s *store.TxnState) error {
	if s.Key == c.key {
		c.state = s
		return nil
	}
	return c.tx.PutTxn(s)
}

// decline sets the response code of a refused request.
func (c *call) decline(rc RC) { c.rc = rc }

// financial answers an accepted financial request with the answer's
// response code; retrans is true when the answer is the one stored for an
// earlier copy of the request (promise 2).
func (e *Engine) financial(ctx context.Context, c *call) (answer []byte, rc RC, retrans bool) {
	if stored, ok := e.beforeStore(ctx, c); ok {
		if !c.retrans {
			return stored, storedRC(c.w, stored), false // 94, or 96 if that did not commit
		}
		return stored, storedRC(c.w, stored), true
	}
	return e.commit(ctx, c)
}

// commit runs the request's store transaction and what follows it.
func (e *Engine) commit(ctx context.Context, c *call) (answer []byte, rc RC, retrans bool) {
	return e.committed(ctx, c, e.db.Update(ctx, c.w.decide))
}

// financialAsync is financial for a caller that takes the answer later:
// the worker does what comes before the store transaction and queues the
// transaction; the answer leaves from the store's completer once its group
// is committed and fsynced. So a request waiting for its group commit
// holds no worker, and a group can carry every request in flight, not
// only as many as there are workers. deferred is false when the answer
// is known at once (a retransmission, a refusal before the store, a store
// that takes no writes).
func (e *Engine) financialAsync(ctx context.Context, c *call, start time.Time, done func([]byte)) (answer []byte, rc RC, retrans, deferred bool) {
	if stored, ok := e.beforeStore(ctx, c); ok {
		return stored, storedRC(c.w, stored), c.retrans, false
	}
	err := e.db.UpdateAsync(ctx, c.w.decide, func(err error) {
		// As the server does for a panic in a worker: no answer, the
		// connection closes; the value may quote request data, so only
		// its type is logged. The store's completer goes on with the
		// other requests.
		panicked := func(v any) {
			e.log.Error("request panicked", "terminal", c.term.ID, "mti", c.mti, "type", fmt.Sprintf("%T", v))
			done(nil)
		}
		if pe, ok := errors.AsType[*store.PanicError](err); ok {
			panicked(pe.Value)
			return
		}
		answered, term := false, c.term.ID // c goes back to the pool with its answer
		defer func() {
			if v := recover(); v != nil {
				if answered { // in the server's hand-over: the answer is gone
					e.log.Error("answer hand-over panicked", "terminal", term, "type", fmt.Sprintf("%T", v))
					return
				}
				panicked(v)
			}
		}()
		answer, rc, retrans := e.committed(ctx, c, err)
		answer = e.answered(c.w, c.mti, rc, retrans, start, answer)
		answered = true
		done(answer)
	})
	if err != nil {
		answer, rc = e.notCommitted(c, err)
		return answer, rc, false, false
	}
	return nil, "", false, true
}

// committed is what follows the request's store transaction, given its
// result.
func (e *Engine) committed(ctx context.Context, c *call, err error) (answer []byte, rc RC, retrans bool) {
	if err != nil {
		answer, rc = e.notCommitted(c, err)
		return answer, rc, false
	}
	if c.retrans {
		return c.answer, storedRC(c.w, c.answer), true
	}
	e.afterCommit(ctx, c)
	return c.answer, c.rc, false
}

// storedRC reads the response code of a stored answer, the one a
// retransmission gets ("" if it does not decode, which the gateway's own
// answers always do).
func storedRC(w *work, answer []byte) RC {
	m := &w.resp
	defer m.Reset() // keep no reference to the caller's answer
	if iso8583.DecodeFrame(m, answer) != nil {
		return ""
	}
	return knownRC(m.Bytes(39))
}

// accept checks what must hold before anything is decided and starts the
// request's call; when it does not hold, the call is nil and the answer is
// the refusal.
func (e *Engine) accept(w *work) (*call, []byte, RC) {
	req := &w.req
	term := e.terms.get(req.TerminalID())
	if term == nil || string(req.MerchantID()) != term.Merchant {
		w.why(unknownTerminal(term))
		return nil, e.plainAnswer(w, RCUnknownTerm, nil), RCUnknownTerm
	}
	mti := uint16(req.MTI)
	var proc uint32
	if req.Has(3) {
		p, err := req.ProcCode()
		if err != nil {
			w.why("field 3 (processing code) unreadable")
			return nil, e.plainAnswer(w, RCFormat, nil), RCFormat
		}
		proc = p
	} else if mti != mti0500 {
		w.why("no field 3 (processing code)")
		return nil, e.plainAnswer(w, RCFormat, nil), RCFormat
	}
	stan, err1 := req.STAN()
	f60, err2 := req.F60()
	if err1 != nil || err2 != nil {
		w.why("field 11 (STAN) or 60 unreadable")
		return nil, e.plainAnswer(w, RCFormat, nil), RCFormat
	}
	en, st, err := e.session(term.ID)
	if err != nil {
		e.log.Error("session lookup", "terminal", term.ID, "err", err)
		return nil, e.plainAnswer(w, RCSystem, nil), RCSystem
	}
	if st == nil {
		w.why("not signed in")
		return nil, e.plainAnswerProc(w, RCSignIn, nil, procSignIn), RCSignIn
	}
	if e.expired(st) {
		// As for no session: its keys are good for nothing any more, not
		// even for MACing this answer.
		e.expireSession(en, term.ID, st)
		w.why("working keys expired (session.key_lifetime)")
		return nil, e.plainAnswerProc(w, RCSignIn, nil, procSignIn), RCSignIn
	}
	if !e.macOK(w, st) {
		e.obs.MACFailure()
		if n := en.macFails.Add(1); int(n) >= e.maxMACFa {
			e.dropSession(en, term.ID)
			e.log.Warn("repeated MAC failures: terminal must sign in again", "terminal", term.ID, "failures", n)
		}
		w.why("bad MAC")
		return nil, e.plainAnswer(w, RCMAC, st.macKey), RCMAC
	}
	if en.macFails.Load() != 0 {
		en.macFails.Store(0)
	}
	if !term.Type.allows(mti, proc) {
		w.why("the terminal's type may not send this request")
		return nil, e.plainAnswer(w, RCNotAllowed, st.macKey), RCNotAllowed
	}
	if f60.Batch != st.batch || !st.batchOpen {
		w.why(batchNote(st.batchOpen))
		return nil, e.plainAnswerProc(w, RCSignIn, st.macKey, procSignIn), RCSignIn
	}
	c := &w.call // pooled with the work: no allocation per request
	*c = call{preTxn: preTxn{e: e, w: w, term: term, en: en, st: st, mti: mti, proc: proc, now: e.now().UTC(),
		key: store.IdemKey{Terminal: term.ID, Batch: f60.Batch, STAN: stan, MTI: mti}}}
	c.fp = fingerprint(w)
	return c, nil, ""
}

// macOK checks field 64 against the MAC of the request's MAB under the
// session's MAK (UnionPay ECB for a single-DES MAK, ANSI X9.19 for a
// double-length one).
func (e *Engine) macOK(w *work, st *sessionState) bool {
	req := &w.req
	mab := req.MAB()
	if mab == nil || !req.Has(64) || st.macKey == nil {
		return false
	}
	// The session's schedule was prepared at sign-in; the work's key only
	// borrows it, so checking a MAC neither allocates nor re-keys.
	w.mac.CopyFrom(st.macKey)
	want := w.mac.Sum(mab)
	return mac.Equal(want[:], req.Raw(64))
}

// dropSession signs a terminal out (repeated MAC failures): its next
// financial request is answered 77 with processing requirement 3.
func (e *Engine) dropSession(en *sessionEntry, term string) {
	en.st.Store(nil)
	en.macFails.Store(0)
	if err := e.db.Update(context.Background(), func(tx *store.Tx) error {
		return persistSession(tx, term, nil)
	}); err != nil {
		e.log.Error("drop session", "terminal", term, "err", err)
	}
}

// beforeStore does the work that needs no store and may take time before
// the store transaction: it verifies a campus code's signatures and claims
// it in the shared replay record, has the payment channel take or give
// back a payment, and asks the centre in connected mode; the outcomes are
// left in the call for the transaction. It returns the stored answer when
// the request turns out to be a retransmission.
func (e *Engine) beforeStore(ctx context.Context, c *call) ([]byte, bool) {
	if ans, ok := e.claimShared(ctx, c); ok {
		return ans, true
	}
	if ans, ok := e.prepay(ctx, c); ok {
		return ans, true
	}
	return e.authorize(ctx, c)
}

// decide is the store transaction function of a financial request (held
// by the work as w.decide, so that passing it allocates nothing). A
// retransmission gets the stored answer; otherwise each run starts afresh
// from what was decided before the transaction (reset), applies the rule
// and writes the answer with the journal.
func (c *call) decide(tx *store.Tx) error {
	prev, fp, ok, err := tx.IdemAnswer(c.key)
	if err != nil {
		return err
	}
	if ok {
		if !c.sameRequest(fp) {
			c.reset(tx)
			return c.duplicate()
		}
		c.answer, c.retrans = c.e.remac(c, prev), true
		return nil
	}
	c.reset(tx)
	if err := c.e.reversalPayments(c); err != nil {
		return err
	}
	if err := c.e.execute(c); err != nil {
		return err
	}
	if err := c.e.paymentEffects(c); err != nil {
		return err
	}
	c.answer, err = c.finish()
	return err
}

// execute applies the rule for the request's type.
func (e *Engine) execute(c *call) error {
	if handled, err := e.connected(c); handled || err != nil {
		return err
	}
	switch c.mti {
	case mti0100:
		switch c.proc {
		case PCBalance:
			return e.inquiry(c)
		case PCSync:
			return e.cardSync(c)
		case PCHistory:
			return e.history(c)
		}
	case mti0200:
		switch c.proc {
		case PCPurchase:
			return e.purchase(c)
		case PCRefund:
			return e.refund(c)
		case PCLoad:
			return e.walletLoad(c)
		case PCTopUp:
			return e.topUp(c)
		case PCFee:
			return e.fee(c)
		}
	case mti0220:
		return e.advice(c)
	case mti0400:
		return e.reversal(c)
	case mti0500:
		return e.settle(c)
	}
	c.decline(RCNotAllowed)
	return nil
}

// finish builds the answer, and writes the idempotency record, the journal
// record(s) and the batch totals, all in the request's store transaction.
func (c *call) finish() ([]byte, error) {
	e, w, tx := c.e, c.w, c.tx
	req, r := &w.req, &w.resp
	// The retrieval reference number is the journal sequence number the
	// request's record is about to get: unique for ever, and no counter to
	// write.
	rrn := tx.JournalLen() + 1
	var rrnBuf [12]byte
	rrnB := appendRRN(rrnBuf[:0], rrn)

	proc := byte(procNone)
	if c.st.blacklistVer < e.blacklistVersion.Load() {
		proc = procBlacklist
	}
	r.SetResponseFrom(req, 2, 3, 4, 11, 25, 41, 42, 49, 60, 61)
	r.Header = req.Header.Reply(proc)
	e.stampTime(r)
	_ = r.SetBytes(37, rrnB)
	approved := c.rc == RCApproved
	if approved && c.mti != mti0500 {
		_ = r.SetBytes(38, rrnB[6:])
	}
	_ = r.SetString(39, string(c.rc))
	if c.channel != "" && c.entryMode() == entryCode {
		// Field 44 names the channel of a scanned code.
		_ = r.SetString(44, string(c.channel))
	}
	if c.hasBal || c.hasWal {
		var b [40]byte
		_ = r.SetBytes(54, appendBalances(b[:0], c))
	}
	if c.f48 != nil {
		if err := r.SetDigits(48, c.f48); err != nil {
			return nil, err
		}
	}
	if c.f55 != nil {
		_ = r.SetBytes(55, c.f55)
	}
	if c.f62 != nil {
		_ = r.SetBytes(62, c.f62)
	}
	if c.f63 != nil {
		_ = r.SetBytes(63, c.f63)
	}
	answer, err := encodeRespKey(w, c.st.macKey)
	if err != nil {
		return nil, err
	}
	if err := tx.PutIdemTxn(c.key, c.fp, answer, c.state); err != nil {
		return nil, err
	}
	c.rec.Resp = string(c.rc)
	c.rec.RRN = string(rrnB)
	if approved && c.mti != mti0500 {
		c.rec.Auth = string(rrnB[6:])
	}
	if c.rec.Kind == "" {
		c.rec.Kind = kindOf(c.mti, c.proc)
	}
	if c.rec.Channel == "" {
		c.rec.Channel = c.channel
	}
	if _, err := tx.AppendJournal(&c.rec); err != nil {
		return nil, err
	}
	if len(c.extra) > 1 {
		return nil, errExtraRecords
	}
	for i := range c.extra {
		x := &c.extra[i]
		x.Time, x.Key, x.Location, x.RRN = c.now, c.key.Derived(), c.term.Location, c.rec.RRN
		if _, err := tx.AppendJournal(x); err != nil {
			return nil, err
		}
	}
	if c.settled != nil {
		// Keyed by the load it settles (settleReversedLoad), which is
		// settled once.
		x := c.settled
		x.Time, x.Location, x.RRN = c.now, c.term.Location, c.rec.RRN
		if _, err := tx.AppendJournal(x); err != nil {
			return nil, err
		}
	}
	if c.closeBatch {
		bt, _, err := tx.Batch(c.term.ID, c.key.Batch)
		if err != nil {
			return nil, err
		}
		bt.Terminal, bt.Batch, bt.Closed = c.term.ID, c.key.Batch, true
		if err := tx.PutBatch(&bt); err != nil {
			return nil, err
		}
		ns := *c.st
		ns.batchOpen = false
		if err := persistSession(tx, c.term.ID, &ns); err != nil {
			return nil, err
		}
	}
	return answer, nil
}

func appendBalances(dst []byte, c *call) []byte {
	if c.hasBal {
		dst = appendBalance(dst, "10", c.bal)
	}
	if c.hasWal {
		dst = appendBalance(dst, "20", c.wal)
	}
	return dst
}

// appendBalance appends one field 54 block: available balance in CNY.
func appendBalance(dst []byte, acct string, amount int64) []byte {
	b := iso8583.Balance{Amount: amount}
	copy(b.Account[:], acct)
	copy(b.Type[:], "02")
	copy(b.Currency[:], "156")
	return iso8583.AppendBalance(dst, b)
}

func kindOf(mti uint16, proc uint32) store.Kind {
	switch mti {
	case mti0100:
		switch proc {
		case PCSync:
			return store.KindSync
		case PCHistory:
			return store.KindHistory
		}
		return store.KindInquiry
	case mti0200:
		switch proc {
		case PCRefund:
			return store.KindRefund
		case PCLoad:
			return store.KindLoad
		case PCTopUp:
			return store.KindTopUp
		case PCFee:
			return store.KindFee
		}
		return store.KindPurchase
	case mti0220:
		return store.KindAdvice
	case mti0400:
		return store.KindReversal
	case mti0500:
		return store.KindSettlement
	}
	return store.KindOther
}

// notCommitted answers a request whose transaction did not commit: 96,
// except a balance inquiry, which changes nothing and is still answered
// from a read transaction when the journal cannot be written (disk full).
func (e *Engine) notCommitted(c *call, err error) ([]byte, RC) {
	if c.mti == mti0100 && !errors.Is(err, context.Canceled) {
		if ans, ok := e.inquiryReadOnly(c); ok {
			return ans, c.rc
		}
	}
	// The store's health logs the failure once per outage; one line per
	// request would flood the very disk that is full.
	e.log.Debug("request not committed; answering 96", "terminal", c.term.ID, "mti", c.mti, "err", err)
	return e.plainAnswer(c.w, RCSystem, c.st.macKey), RCSystem
}

// afterCommit follows a committed answer: the campus code's metric, the
// session's batch closed by a settlement; it starts the channel calls
// queued with the answer and stops a pending payment a reversal names.
func (e *Engine) afterCommit(ctx context.Context, c *call) {
	if c.codeReason != "" {
		e.obs.CampusCode(c.codeReason)
	}
	if c.jobs {
		e.kickJobs()
	}
	if c.mti == mti0400 {
		e.pays.markReversed(store.IdemKey{Terminal: c.term.ID, Batch: c.key.Batch, STAN: c.key.STAN, MTI: mti0200})
	}
	if c.closeBatch {
		ns := *c.st
		ns.batchOpen = false
		c.en.st.CompareAndSwap(c.st, &ns)
	}
}
