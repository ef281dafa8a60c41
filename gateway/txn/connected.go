package txn

import (
	"context"
	"ecardgw/gateway/ledger"
	"errors"
	"sync"
	"time"

	"ecardgw/store"
)

// Centre is the card centre's online authorization (connected mode): the
// centre is the ledger of record and applies each request itself,
// idempotently by its key.
type Centre interface {
	Authorize(ctx context.Context, r AuthRequest) (AuthResult, error)
}

// AuthRequest is one request for the centre to decide.
type AuthRequest struct {
	Key        store.IdemKey
	Kind       store.Kind // purchase, inquiry, refund, reversal, load, fee, sync
	Account    uint64     // from a campus code; 0 for a card (the centre resolves Card)
	Card       string
	Amount     int64
	Channel    store.Channel
	Orig       *store.IdemKey
	Time       time.Time
	Terminal   string
	Merchant   string
	Location   string
	CampusCode bool
	Extra      map[string]string // kind-specific: fee target, wallet state
}

// AuthResult is the centre's decision and the account's state after it.
type AuthResult struct {
	RC          RC
	Account     uint64
	BalanceFen  int64
	WalletFen   int64
	Status      string // active, frozen, lost, cancelled
	ECardActive bool
	// Version is the centre's account version after the decision (0 when
	// the centre does not say): the replica keeps the newer of this answer
	// and an account snapshot (Engine.NoteReplicaVersion).
	Version uint64
}

// StandInLimits bound what the gateway approves while the centre is silent.
type StandInLimits struct {
	PerTxnFen     int64 // default 5000 (50.00)
	PerAccountFen int64 // default 20000 (200.00) until the centre confirms
}

// centreKind says whether and how a request goes to the centre: the
// requests the centre may still decline are authorized online, before
// anything is approved.
func (c *call) centreKind() store.Kind {
	if c.unknownCode() {
		return "" // no code the gateway knows: P3 by the local rules
	}
	switch c.mti {
	case mti0100:
		switch c.proc {
		case PCBalance:
			return store.KindInquiry
		case PCSync:
			return store.KindSync
		}
	case mti0200:
		switch c.proc {
		case PCPurchase:
			if c.thirdPartyCode() == "" {
				return store.KindPurchase
			}
		case PCRefund:
			return store.KindRefund
		case PCLoad:
			return store.KindLoad
		case PCFee:
			return store.KindFee
		}
	case mti0400:
		return store.KindReversal
	}
	// History and settlement move no money. An offline advice (the goods
	// are gone), a top-up (the channel has taken the money) and a
	// third-party payment (the channel's money, not the account's) are
	// decided here and cannot be taken back, so they are not asked: their
	// journal records reach the centre through the outbox and the centre
	// applies each once by its key (centre.RecordEffect,
	// docs/centre-api.md).
	return ""
}

// authorize asks the centre before the store transaction (connected mode).
// A retransmission gets its stored answer; a campus code is claimed first
// so that two terminals cannot both have it authorized.
func (e *Engine) authorize(ctx context.Context, c *call) ([]byte, bool) {
	if e.centre == nil {
		return nil, false
	}
	kind := c.centreKind()
	if kind == "" {
		return nil, false
	}
	if ans, ok := e.storedAnswer(c); ok {
		return ans, true
	}
	req := AuthRequest{Key: c.key, Kind: kind, Time: c.now, Terminal: c.term.ID,
		Merchant: c.term.Merchant, Location: c.term.Location, Channel: store.ChannelCampus}
	if v, err := c.w.req.Amount(); err == nil {
		req.Amount = v
	}
	if c.w.req.Has(2) {
		req.Card = c.w.req.Digits(2)
	}
	switch kind {
	case store.KindRefund:
		if f61, err := c.w.req.F61(); err == nil {
			req.Orig = &store.IdemKey{Terminal: c.term.ID, Batch: f61.Batch, STAN: f61.STAN, MTI: mti0200}
		}
	case store.KindReversal:
		req.Orig = &store.IdemKey{Terminal: c.term.ID, Batch: c.key.Batch, STAN: c.key.STAN, MTI: mti0200}
	case store.KindFee:
		req.Extra = map[string]string{"target": string(c.w.req.Bytes(63))}
	case store.KindLoad:
		if rc := e.loadPrecheck(c); rc != "" {
			return nil, false // declined locally in the transaction, the centre is not asked
		}
	}
	if c.code != nil {
		if c.code.err != nil {
			return nil, false // Q1–Q5: decided offline
		}
		req.Account, req.CampusCode = c.code.res.Account, true
		if !e.claimCode(ctx, c) {
			return nil, false // Q4 in the transaction
		}
	}
	actx, cancel := context.WithTimeout(ctx, e.centreTimeout)
	res, err := e.centre.Authorize(actx, req)
	cancel()
	switch {
	case err == nil:
		c.online = &res
	case errors.Is(err, ErrCentreUnreachable) || errors.Is(err, context.DeadlineExceeded):
		c.unreachable = true
		// Logged once per change of the centre's state (breaker, reachability), not per request.
		e.log.Debug("card centre did not answer: standing in", "terminal", c.term.ID, "kind", kind)
	default:
		e.log.Error("card centre refused the request", "terminal", c.term.ID, "kind", kind, "err", err)
		c.online = &AuthResult{RC: RCSystem}
	}
	return nil, false
}

// connected decides a request in connected mode inside the transaction:
// the centre's answer, or the stand-in rules when it did not answer.
// handled is false for requests that follow the local rules.
func (e *Engine) connected(c *call) (handled bool, err error) {
	if e.centre == nil {
		return false, nil
	}
	switch {
	case c.online != nil:
		return true, e.applyOnline(c)
	case c.unreachable:
		return true, e.standIn(c)
	}
	switch c.centreKind() {
	case store.KindPurchase, store.KindInquiry:
		if c.code != nil && c.code.err == nil && !c.codeClaimed {
			c.codeReason = "replay"
			c.decline(RCReplay)
			return true, nil
		}
	case store.KindLoad:
		// Declined by the local pre-check: run the local rule to say why.
		return false, nil
	}
	return false, nil
}

// applyOnline journals the centre's decision and refreshes the replica.
func (e *Engine) applyOnline(c *call) error {
	res := c.online
	c.rc = res.RC
	c.rec.Account = res.Account
	c.rec.Note = "online"
	if v, err := c.w.req.Amount(); err == nil {
		c.rec.Amount = v
	}
	if c.w.req.Has(2) {
		c.w.tmp = c.w.req.AppendDigits(c.w.tmp[:0], 2)
		c.rec.CardMasked = maskCard(c.w.tmp)
	}
	if c.code != nil {
		c.channel = store.ChannelCampus
		c.codeReason = "ok"
		if res.RC == RCInactive {
			c.codeReason = "inactive"
		}
	}
	if res.Account != 0 {
		a, ok, err := c.tx.Account(res.Account)
		if err != nil {
			return err
		}
		// A snapshot read after this answer may already be in the store:
		// the replica keeps the newer state.
		if ok && e.replica.note(res.Account, res.Version) {
			a.BalanceFen = res.BalanceFen
			if st, err := store.ParseStatus(res.Status); err == nil {
				a.Status = st
			}
			a.ECardActive = a.ECardActive || res.ECardActive
			a.Updated = c.now
			if err := c.tx.PutAccount(&a); err != nil {
				return err
			}
		}
		c.hasBal, c.bal = true, res.BalanceFen
		c.rec.BalanceAfter = res.BalanceFen
	}
	if c.rc != RCApproved {
		return nil
	}
	switch kind := c.centreKind(); kind {
	case store.KindPurchase:
		return c.putState(&store.TxnState{Key: c.key, Account: res.Account, Amount: c.rec.Amount, Kind: store.KindPurchase,
			ProcCode: c.proc, Channel: store.ChannelCampus, Time: c.now})
	case store.KindFee:
		c.rec.Note = "online " + string(c.w.req.Bytes(63))
		return c.putState(&store.TxnState{Key: c.key, Account: res.Account, Amount: c.rec.Amount, Kind: store.KindFee,
			ProcCode: c.proc, Channel: store.ChannelCampus, Time: c.now})
	case store.KindRefund:
		if f61, err := c.w.req.F61(); err == nil {
			orig := store.IdemKey{Terminal: c.term.ID, Batch: f61.Batch, STAN: f61.STAN, MTI: mti0200}
			c.rec.Orig = &orig
			if ts, ok, err := c.tx.Txn(orig); err != nil {
				return err
			} else if ok {
				ts.Refunded += c.rec.Amount
				if err := c.tx.PutTxn(&ts); err != nil {
					return err
				}
			}
		}
		return c.putState(&store.TxnState{Key: c.key, Account: res.Account, Amount: c.rec.Amount, Kind: store.KindRefund,
			ProcCode: c.proc, Channel: store.ChannelCampus, Time: c.now, Orig: c.rec.Orig})
	case store.KindLoad:
		return e.walletLoadOnline(c)
	case store.KindReversal:
		return e.reverseLocalState(c)
	}
	return nil
}

// standIn applies the stand-in rules (rules.md): purchases by card or
// campus code only, within the per-transaction limit and the per-account
// exposure until the centre confirms, never for a lost card, a frozen
// account or an inactive electronic card, never beyond the replica balance
// less what is already pending. Inquiries are answered from the replica.
// Reversals are approved and forwarded. Everything else is 91.
func (e *Engine) standIn(c *call) error {
	c.rec.StandIn = true
	switch c.centreKind() {
	case store.KindPurchase:
	case store.KindInquiry:
		a, ok, err := c.payer()
		if err != nil || !ok {
			return err
		}
		pending, err := c.tx.StandInPending(a.No)
		if err != nil {
			return err
		}
		c.rc = RCApproved
		c.hasBal, c.bal = true, a.BalanceFen-pending
		return c.consumeCode()
	case store.KindReversal:
		return e.standInReversal(c)
	default:
		c.decline(RCCentreDown)
		return nil
	}
	amt, ok := c.amount(0)
	if !ok {
		return nil
	}
	if amt > e.standInLimits().PerTxnFen {
		c.declineWhy(RCOverLimit, "stand_in.per_txn_fen")
		return nil
	}
	a, ok, err := c.payer()
	if err != nil || !ok {
		return err
	}
	pending, err := c.tx.StandInPending(a.No)
	if err != nil {
		return err
	}
	c.hasBal, c.bal = true, a.BalanceFen-pending
	if pending+amt > e.standInLimits().PerAccountFen {
		c.declineWhy(RCOverLimit, "stand_in.per_account_fen")
		return nil
	}
	if a.BalanceFen-pending < amt {
		c.decline(RCInsufficient)
		return nil
	}
	if _, err := c.tx.AddStandInPending(a.No, amt); err != nil {
		return err
	}
	c.rc = RCApproved
	c.bal = a.BalanceFen - pending - amt
	c.rec.BalanceAfter = c.bal
	c.channel = store.ChannelCampus
	e.obs.StandIn()
	if err := c.consumeCode(); err != nil {
		return err
	}
	return c.putState(&store.TxnState{Key: c.key, Account: a.No, Amount: amt, Kind: store.KindPurchase,
		ProcCode: c.proc, Channel: store.ChannelCampus, Time: c.now, RRN: "standin"})
}

// reverseLocalState marks the local record of a reversed purchase, and
// gives back stand-in exposure that the reversal cancels.
//
// The reversal's journal record carries, as in standalone mode, the signed
// change the centre made (docs/protocol.md 9.2: a purchase gives back what
// was not refunded, a refund is taken back unless its purchase was
// reversed, a load is given back): what the centre's own ledger did,
// worked out from the same state.
func (e *Engine) reverseLocalState(c *call) error {
	orig := store.IdemKey{Terminal: c.term.ID, Batch: c.key.Batch, STAN: c.key.STAN, MTI: mti0200}
	c.rec.Orig = &orig
	ts, found, err := c.tx.Txn(orig)
	if err != nil || !found || ts.Reversed {
		if err == nil {
			c.rec.Amount = 0
		}
		return err
	}
	campus := ts.Channel == "" || ts.Channel == store.ChannelCampus
	switch {
	case !campus:
		c.rec.Amount = 0
	case ts.Kind == store.KindPurchase || ts.Kind == store.KindFee:
		c.rec.Amount = ts.Amount - ts.Refunded
	case ts.Kind == store.KindTopUp:
		c.rec.Amount = -ts.Amount
	case ts.Kind == store.KindRefund:
		undone, err := e.unrefund(c, &ts)
		if err != nil {
			return err
		}
		c.rec.Amount = -ts.Amount
		if !undone {
			c.rec.Amount = 0
		}
	case ts.Kind == store.KindLoad:
		c.rec.Amount = ts.Amount
		if err := e.reverseLoadOnline(c, &ts); err != nil {
			return err
		}
	default:
		c.rec.Amount = 0
	}
	ts.Reversed = true
	return c.tx.PutTxn(&ts)
}

// reverseLoadOnline keeps the card's wallet state after the centre gave a
// load back: as in standalone mode, the card's next load tells whether it
// took it (Wallet.Reversed, settled by settleReversedLoad). A load that is
// no longer the card's last was taken (a later load came at a higher
// counter): the centre, which gave it back, is told to debit it again by
// a record of its own.
func (e *Engine) reverseLoadOnline(c *call, ts *store.TxnState) error {
	a, ok, err := c.tx.Account(ts.Account)
	if err != nil || !ok {
		return err
	}
	if loadTakenSince(&a, ts.Key) {
		if _, err := ledger.TakeBack(&a, ts.Amount, c.now); err != nil {
			return nil // past the floor: left to reconciliation (the record is an exception)
		}
		c.debitedAgain(ts.Key, &a, ts.Amount, "a later load followed it")
		c.rec.Exception = true
		return c.tx.PutAccount(&a)
	}
	if !awaitNextLoad(&a, ts) {
		return nil
	}
	return c.tx.PutAccount(&a)
}

// ConfirmStandIn is called when the centre has accepted a forwarded
// stand-in purchase: its amount no longer counts against the account's
// exposure, and the replica carries the debit until the next refresh.
func (e *Engine) ConfirmStandIn(ctx context.Context, account uint64, amount int64) error {
	return e.db.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.AddStandInPending(account, -amount); err != nil {
			return err
		}
		a, ok, err := tx.Account(account)
		if err != nil || !ok {
			return err
		}
		a.BalanceFen -= amount
		return tx.PutAccount(&a)
	})
}

// standInReversal approves a reversal while the centre is silent: the
// record is forwarded and the centre undoes the original when it gets it.
// A stand-in original only gives its exposure back.
func (e *Engine) standInReversal(c *call) error {
	c.rc = RCApproved
	orig := store.IdemKey{Terminal: c.term.ID, Batch: c.key.Batch, STAN: c.key.STAN, MTI: mti0200}
	c.rec.Orig = &orig
	if v, err := c.w.req.Amount(); err == nil {
		c.rec.Amount = v
	}
	ts, found, err := c.tx.Txn(orig)
	if err != nil {
		return err
	}
	if !found {
		if _, answered, err := c.tx.Idem(orig); err != nil || answered {
			return err
		}
		return c.tx.PutTombstone(orig, c.now)
	}
	if ts.Reversed {
		return nil
	}
	c.rec.Account = ts.Account
	if ts.RRN == "standin" {
		if _, err := c.tx.AddStandInPending(ts.Account, -ts.Amount); err != nil {
			return err
		}
	}
	ts.Reversed = true
	return c.tx.PutTxn(&ts)
}

// loadPrecheck runs the small-wallet load's local checks (card, limit,
// online counter, MAC1) on the replica before the centre is asked to
// debit; it returns the decline code, or "" when the centre may be asked.
func (e *Engine) loadPrecheck(c *call) RC {
	var rc RC
	_ = e.db.View(func(tx *store.Tx) error {
		pc := *c
		pc.tx = tx
		pc.rc = ""
		_, ok, err := e.loadCheck(&pc)
		if err != nil {
			rc = RCSystem
			return err
		}
		if !ok {
			rc = pc.rc
		}
		return nil
	})
	return rc
}

// walletLoadOnline finishes a load the centre has debited: MAC2, the
// wallet state and the water consumption, as in standalone mode.
func (e *Engine) walletLoadOnline(c *call) error {
	in, ok, err := e.loadCheck(c)
	if err != nil {
		return err
	}
	if !ok {
		// The card's state changed between the check and the centre's
		// answer: the centre debited, the card gets nothing. Flag it.
		c.rec.Exception = true
		c.rec.Note = "online load declined locally after the centre debited: reverse at the centre"
		return nil
	}
	settled, err := e.settleReversedLoad(c, in)
	if err != nil {
		return err
	}
	bal := c.online.BalanceFen
	if settled && c.settled != nil {
		bal -= c.settled.Amount // the centre applies the settling record once it is delivered
	}
	return e.applyLoad(c, in, bal)
}

// replicaVersions is, per account, the centre's version of the account
// state the replica holds, as learnt from online answers and account
// snapshots (in memory: after a restart the first snapshot sets them).
// An online answer and a snapshot read at about the same time reach the
// store in either order; each is written only if its version is at least
// the newest seen, so the replica never goes back to an older state that
// the next incremental snapshot (changes after the version it holds)
// would not correct.
type replicaVersions struct {
	mu sync.Mutex
	v  map[uint64]uint64
}

// note records version v of account a and reports whether it is at least
// the newest seen (the state may be written). Version 0 (a centre that
// does not number its answers) is always written.
func (r *replicaVersions) note(a, v uint64) bool {
	if v == 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if v < r.v[a] {
		return false
	}
	if r.v == nil {
		r.v = map[uint64]uint64{}
	}
	r.v[a] = v
	return true
}

// NoteReplicaVersion is called, inside the store transaction that would
// write it, for each account of a snapshot from the centre: it reports
// whether the snapshot's version of the account is at least the newest
// the replica has seen (from an online answer or an earlier snapshot), so
// that the account may be written.
func (e *Engine) NoteReplicaVersion(account, version uint64) bool {
	return e.replica.note(account, version)
}
