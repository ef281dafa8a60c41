package centre

import (
	"context"
	"net/http"
	"time"

	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// Kinds of authorization request: the journal's kinds.
const (
	KindPurchase = store.KindPurchase
	KindInquiry  = store.KindInquiry
	KindRefund   = store.KindRefund
	KindReversal = store.KindReversal
	KindLoad     = store.KindLoad
	KindTopUp    = store.KindTopUp
	KindFee      = store.KindFee
	KindAdvice   = store.KindAdvice
	KindSync     = store.KindSync
)

// AuthRequest asks the centre (the ledger in connected mode) to decide and
// apply one request. The centre applies it at most once per Key: a retry
// with the same Key gets the first answer.
type AuthRequest struct {
	Key     store.IdemKey
	Kind    store.Kind // KindPurchase ... KindSync
	Account uint64     // 0: find it by Card
	Card    string     // full card number; travels only to the centre, never logged
	Amount  int64      // fen
	Channel store.Channel
	Orig    *store.IdemKey // the original of a refund or reversal
	Time    time.Time
	// Terminal, Merchant and Location are for the centre's records.
	Terminal, Merchant, Location string
	// CampusCode: paid by campus code, so the electronic card must be
	// active.
	CampusCode bool
	// Extra carries kind-specific details (a sync's card serial and
	// wallet balance, a fee's target) as short strings.
	Extra map[string]string
}

// AuthResult is the centre's decision. RC is the response code for the
// POS ("00" approved); the balances are after the request.
type AuthResult struct {
	RC          txn.RC
	Account     uint64
	BalanceFen  int64
	WalletFen   int64
	Status      string // "active", "frozen", "lost", "cancelled"
	ECardActive bool
	Version     uint64 // the account's version after the op; 0: not given
}

// Authorize asks the centre online, bounded by the client's Timeout (and
// ctx). An error wrapping ErrUnreachable leaves the outcome unknown: the
// caller may stand in, and its journal record delivered later with the
// same Key is recognised by the centre.
func (c *Client) Authorize(ctx context.Context, r AuthRequest) (AuthResult, error) {
	w := WireAuthRequest{
		Key: ToWireKey(r.Key), Kind: r.Kind, Account: r.Account, Card: r.Card, Amount: r.Amount,
		Channel: r.Channel, Time: r.Time.UTC(), Terminal: r.Terminal, Merchant: r.Merchant,
		Location: r.Location, CampusCode: r.CampusCode, Extra: r.Extra,
	}
	if r.Orig != nil {
		o := ToWireKey(*r.Orig)
		w.Orig = &o
	}
	var out WireAuthResult
	if err := c.call(ctx, c.timeout, http.MethodPost, PathAuthorize, &w, &out); err != nil {
		return AuthResult{}, err
	}
	return AuthResult(out), nil
}
