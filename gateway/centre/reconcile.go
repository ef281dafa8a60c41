package centre

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// Ops calls fn for every op the centre holds whose time is in [from, to),
// ordered by key, page by page (GET /v1/ops). An error from fn stops it.
func (c *Client) Ops(ctx context.Context, from, to time.Time, fn func(WireOp) error) error {
	after := ""
	for {
		q := url.Values{"from": {from.UTC().Format(time.RFC3339Nano)}, "to": {to.UTC().Format(time.RFC3339Nano)},
			"limit": {strconv.Itoa(MaxPage)}}
		if after != "" {
			q.Set("after", after)
		}
		var page WireOpsPage
		if err := c.call(ctx, c.callTimeout, http.MethodGet, PathOps+"?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		for _, o := range page.Ops {
			if o.Key <= after {
				return fmt.Errorf("%w: %w: ops out of order", ErrUnreachable, ErrBadAnswer)
			}
			after = o.Key
			if err := fn(o); err != nil {
				return err
			}
		}
		if !page.More {
			return nil
		}
		if len(page.Ops) == 0 {
			return fmt.Errorf("%w: %w: empty page with more", ErrUnreachable, ErrBadAnswer)
		}
	}
}

// Difference is one way the gateway's ledger and the centre's disagree.
type Difference struct {
	// What: "balance" (an account's balance), "account" (held by one side
	// only), "record" (a gateway record the centre did not apply as the
	// gateway did) or "op" (a centre op the gateway has no approval for).
	What    string
	Key     string // the idempotency key's text form (record, op)
	Account uint64
	Detail  string
}

func (d Difference) String() string {
	if d.Key != "" {
		return fmt.Sprintf("%-8s %s %s", d.What, d.Key, d.Detail)
	}
	return fmt.Sprintf("%-8s account %d: %s", d.What, d.Account, d.Detail)
}

// Yuan formats fen as yuan with two decimals ("-12.05").
func Yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen) // -MinInt64 wraps to itself: its uint64 is right
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// CompareBalances reports every account whose balance differs between
// the gateway and the centre, and every account only one side holds,
// ordered by account number.
func CompareBalances(gateway, centre map[uint64]int64) []Difference {
	var out []Difference
	for no, g := range gateway {
		c, ok := centre[no]
		switch {
		case !ok:
			out = append(out, Difference{What: "account", Account: no, Detail: "only at the gateway (balance " + Yuan(g) + ")"})
		case c != g:
			out = append(out, Difference{What: "balance", Account: no,
				Detail: fmt.Sprintf("gateway %s, centre %s, difference %s", Yuan(g), Yuan(c), Yuan(g-c))})
		}
	}
	for no, c := range centre {
		if _, ok := gateway[no]; !ok {
			out = append(out, Difference{What: "account", Account: no, Detail: "only at the centre (balance " + Yuan(c) + ")"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

// Balances reads every account's balance from the gateway's store.
func Balances(db *store.DB) (map[uint64]int64, error) {
	out := map[uint64]int64{}
	err := db.View(func(tx *store.Tx) error {
		return tx.ForEachAccount(func(a *store.Account) error {
			out[a.No] = a.BalanceFen
			return nil
		})
	})
	return out, err
}

// CentreBalances reads every account's balance from the centre (the
// whole snapshot).
func (c *Client) CentreBalances(ctx context.Context) (map[uint64]int64, error) {
	out := map[uint64]int64{}
	_, err := c.Snapshot(ctx, 0, func(a AccountSnapshot) error {
		out[a.No] = a.BalanceFen
		return nil
	})
	return out, err
}

// ReconcileOptions choose the period compared.
type ReconcileOptions struct {
	// From and To bound the period [From, To) by the transactions' time.
	From, To time.Time
	// Slack widens the period when looking for the other side's match of
	// a record or an op, for the two clocks and for a transaction close
	// to a bound (default 10 minutes).
	Slack time.Duration
}

// Report is what Reconcile found.
type Report struct {
	From, To    time.Time
	Records     int // the gateway's money records in the period
	Ops         int // the centre's money ops in the period
	Accounts    int // accounts compared
	Backlog     int // journal records not yet delivered to the centre
	Differences []Difference
}

// gwRec is the gateway's side of one key.
type gwRec struct {
	kind     store.Kind
	account  uint64
	amount   int64
	resp     string
	approved bool
	money    bool
	seq      uint64
	time     time.Time
}

// moves reports whether a gateway record moves money at the centre: an
// approved record with an effect, or an approved reversal.
func moves(r *store.Record) bool {
	if txn.RC(r.Resp) != txn.RCApproved {
		return false
	}
	if r.Kind == store.KindReversal {
		return true
	}
	_, ok := RecordEffect(r)
	return ok
}

// opMoves reports whether a centre op moved money that is still moved
// (or is a reversal): an op undone since has given its money back.
func opMoves(o *WireOp) bool {
	return o.RC == txn.RCApproved && !o.Reversed && (o.Delta != 0 || o.Wallet != 0 || o.Kind == store.KindReversal)
}

// Reconcile compares the gateway's journal and balances (db: the store
// of a stopped gateway or a backup of a running one) with the centre's
// for a period. Every money record of the gateway in the period must be
// an op of the centre, approved, for the same account and amount; every
// money op of the centre in the period must be an approved record of the
// gateway; every account's balance must be the same at both (balances
// are compared as they are now, whatever the period).
func Reconcile(ctx context.Context, c *Client, db *store.DB, o ReconcileOptions) (Report, error) {
	if o.Slack <= 0 {
		o.Slack = 10 * time.Minute
	}
	rep := Report{From: o.From.UTC(), To: o.To.UTC()}
	lo, hi := rep.From.Add(-o.Slack), rep.To.Add(o.Slack)
	inPeriod := func(t time.Time) bool { return !t.Before(rep.From) && t.Before(rep.To) }

	gw := map[string]*gwRec{}
	pending := map[uint64]bool{}
	gwBal := map[uint64]int64{}
	err := db.View(func(tx *store.Tx) error {
		if err := tx.Outbox(0, 0, func(seq, _ uint64) error {
			pending[seq] = true
			return nil
		}); err != nil {
			return err
		}
		if err := tx.ForEachAccount(func(a *store.Account) error {
			gwBal[a.No] = a.BalanceFen
			return nil
		}); err != nil {
			return err
		}
		return tx.JournalSince(0, func(r *store.Record) error {
			if r.Time.Before(lo) || !r.Time.Before(hi) {
				return nil
			}
			k := KeyString(r.Key)
			g := &gwRec{kind: r.Kind, account: r.Account, amount: r.Amount, resp: r.Resp,
				approved: txn.RC(r.Resp) == txn.RCApproved, money: moves(r), seq: r.Seq, time: r.Time}
			if prev, ok := gw[k]; ok && (prev.money || prev.approved && !g.approved) {
				return nil // a key answered twice: its approval counts
			}
			gw[k] = g
			return nil
		})
	})
	if err != nil {
		return rep, err
	}
	rep.Backlog = len(pending)

	ops := map[string]*WireOp{}
	if err := c.Ops(ctx, lo, hi, func(op WireOp) error {
		ops[op.Key] = &op
		return nil
	}); err != nil {
		return rep, err
	}
	ceBal, err := c.CentreBalances(ctx)
	if err != nil {
		return rep, err
	}

	keys := make([]string, 0, len(gw))
	for k := range gw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := gw[k]
		if !g.money || !inPeriod(g.time) {
			continue
		}
		rep.Records++
		what := fmt.Sprintf("%s account %d %s: ", g.kind, g.account, Yuan(g.amount))
		op, ok := ops[k]
		switch {
		case !ok:
			d := what + "approved at the gateway, unknown at the centre"
			if pending[g.seq] {
				d += " (not yet delivered)"
			}
			rep.Differences = append(rep.Differences, Difference{What: "record", Key: k, Account: g.account, Detail: d})
		case op.RC != txn.RCApproved:
			rep.Differences = append(rep.Differences, Difference{What: "record", Key: k, Account: g.account,
				Detail: what + "approved at the gateway, " + string(op.RC) + " at the centre"})
		case op.Amount != g.amount && g.kind != store.KindReversal:
			// (A reversal's journal amount is the signed change it made,
			// the centre's op keeps the amount the terminal sent: the
			// balances below compare what reversals did.)
			rep.Differences = append(rep.Differences, Difference{What: "record", Key: k, Account: g.account,
				Detail: what + "the centre has the amount " + Yuan(op.Amount)})
		case g.account != 0 && op.Account != 0 && op.Account != g.account:
			rep.Differences = append(rep.Differences, Difference{What: "record", Key: k, Account: g.account,
				Detail: what + "the centre has it for account " + strconv.FormatUint(op.Account, 10)})
		}
	}

	keys = keys[:0]
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		op := ops[k]
		if !opMoves(op) || !inPeriod(op.Time) {
			continue
		}
		rep.Ops++
		what := fmt.Sprintf("%s account %d %s: ", op.Kind, op.Account, Yuan(op.Amount))
		switch g, ok := gw[k]; {
		case !ok:
			rep.Differences = append(rep.Differences, Difference{What: "op", Key: k, Account: op.Account,
				Detail: what + "applied at the centre, unknown at the gateway"})
		case !g.approved:
			rep.Differences = append(rep.Differences, Difference{What: "op", Key: k, Account: op.Account,
				Detail: what + "applied at the centre, " + g.resp + " at the gateway"})
		}
	}

	rep.Accounts = len(gwBal)
	for no := range ceBal {
		if _, ok := gwBal[no]; !ok {
			rep.Accounts++
		}
	}
	rep.Differences = append(rep.Differences, CompareBalances(gwBal, ceBal)...)
	return rep, nil
}
