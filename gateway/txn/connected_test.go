package txn_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// centre is a card-centre double: its own balances, authorizing purchases
// and inquiries by card number; down or slow on demand.
type centre struct {
	mu       sync.Mutex
	down     bool
	delay    time.Duration
	balances map[string]int64 // card -> balance
	accounts map[string]uint64
	seen     map[store.IdemKey]txn.AuthResult
	calls    int
}

func newCentre() *centre {
	return &centre{
		balances: map[string]int64{cardOK: 10000, cardPoor: 100, cardLost: 5000},
		accounts: map[string]uint64{cardOK: 1001, cardPoor: 1004, cardLost: 1002},
		seen:     map[store.IdemKey]txn.AuthResult{},
	}
}

func (c *centre) Authorize(ctx context.Context, r txn.AuthRequest) (txn.AuthResult, error) {
	c.mu.Lock()
	down, delay := c.down, c.delay
	c.calls++
	c.mu.Unlock()
	if down {
		return txn.AuthResult{}, txn.ErrCentreUnreachable
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return txn.AuthResult{}, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if res, ok := c.seen[r.Key]; ok {
		return res, nil // idempotent by key
	}
	acct, ok := c.accounts[r.Card]
	if !ok {
		return txn.AuthResult{RC: "14"}, nil
	}
	res := txn.AuthResult{RC: "00", Account: acct, Status: "active", ECardActive: true}
	if r.Card == cardLost {
		res.RC, res.Status = "41", "lost"
	}
	if r.Kind == store.KindPurchase && res.RC == "00" {
		if c.balances[r.Card] < r.Amount {
			res.RC = "51"
		} else {
			c.balances[r.Card] -= r.Amount
		}
	}
	res.BalanceFen = c.balances[r.Card]
	c.seen[r.Key] = res
	return res, nil
}

func (c *centre) setDown(v bool) { c.mu.Lock(); c.down = v; c.mu.Unlock() }

func connectedTo(ce *centre) func(*txn.Config) {
	return func(cfg *txn.Config) {
		cfg.Centre = ce
		cfg.CentreTimeout = 100 * time.Millisecond
	}
}

func TestConnectedOnline(t *testing.T) {
	ce := newCentre()
	f := newFixture(t, connectedTo(ce))
	p := f.signedIn("T0000001", 1)
	resp, _ := send(t, p, p.CardPurchase(cardOK, 1200, nil))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(8800), balance54(t, resp)[0].Amount)
	require.Equal(t, int64(8800), f.balance(1001), "the replica follows the centre")
	resp, _ = send(t, p, p.CardPurchase(cardPoor, 101, nil))
	require.Equal(t, "51", posclient.RC(resp), "the centre decides")
	resp, _ = send(t, p, p.CardPurchase(cardLost, 1, nil))
	require.Equal(t, "41", posclient.RC(resp))
}

func TestStandIn(t *testing.T) {
	ce := newCentre()
	f := newFixture(t, connectedTo(ce))
	p := f.signedIn("T0000001", 1)
	require.NoError(t, f.db.Update(context.Background(), func(tx *store.Tx) error {
		a, _, err := tx.Account(1001)
		a.BalanceFen = 100000 // the replica's last known balance
		if err != nil {
			return err
		}
		return tx.PutAccount(&a)
	}))
	ce.setDown(true)

	resp, _ := send(t, p, p.CardPurchase(cardOK, 5001, nil))
	require.Equal(t, "61", posclient.RC(resp), "over the stand-in limit per transaction")
	var buys []int64
	for range 4 {
		resp, _ = send(t, p, p.CardPurchase(cardOK, 5000, nil))
		require.Equal(t, "00", posclient.RC(resp))
		buys = append(buys, 5000)
	}
	resp, _ = send(t, p, p.CardPurchase(cardOK, 1, nil))
	require.Equal(t, "61", posclient.RC(resp), "stand-in exposure per account is 200.00")
	resp, _ = send(t, p, p.CardPurchase(cardPoor, 101, nil))
	require.Equal(t, "51", posclient.RC(resp), "never beyond the replica balance")
	resp, _ = send(t, p, p.CardPurchase(cardLost, 1, nil))
	require.Equal(t, "41", posclient.RC(resp), "never for a lost card")
	resp, _ = send(t, p, p.CardPurchase(cardFrozen, 1, nil))
	require.Equal(t, "62", posclient.RC(resp), "never for a frozen account")

	// Everything that needs the centre is 91.
	k := f.signedIn("K0000001", 1)
	resp, _ = send(t, k, fee(k, cardOK, 100, "NET:1"))
	require.Equal(t, "91", posclient.RC(resp))
	b1 := p.CardPurchase(cardPoor, 50, nil)
	resp, _ = send(t, p, b1)
	require.Equal(t, "00", posclient.RC(resp))
	stan, _ := b1.STAN()
	resp, _ = send(t, p, p.Refund(cardPoor, 10, 1, stan, 1126))
	require.Equal(t, "91", posclient.RC(resp))

	// A reversal of a stand-in purchase gives its exposure back.
	resp, _ = send(t, p, p.Reversal(b1, "98"))
	require.Equal(t, "00", posclient.RC(resp))
	var pending int64
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		var err error
		pending, err = tx.StandInPending(1004)
		return err
	}))
	require.Zero(t, pending)

	// The centre confirms the forwarded stand-in purchases: exposure frees.
	for _, amt := range buys {
		require.NoError(t, f.eng.ConfirmStandIn(context.Background(), 1001, amt))
	}
	resp, _ = send(t, p, p.CardPurchase(cardOK, 1000, nil))
	require.Equal(t, "00", posclient.RC(resp), "confirmed stand-ins no longer count against the exposure")
	require.Equal(t, int64(100000-20000), f.balance(1001), "replica: confirmed debits applied, the new stand-in pending")
}

func TestStandInWhenCentreSlow(t *testing.T) {
	ce := newCentre()
	ce.delay = time.Second
	f := newFixture(t, connectedTo(ce))
	p := f.signedIn("T0000001", 1)
	start := time.Now()
	resp, _ := send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp))
	require.Less(t, time.Since(start), 900*time.Millisecond, "the centre's timeout, not its delay, bounds the answer")
	var standIn bool
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			if r.Kind == store.KindPurchase {
				standIn = r.StandIn
			}
			return nil
		})
	}))
	require.True(t, standIn)
}

// TestConnectedUnknownScannedCode: in connected mode, a scanned text that
// is no known code is declined P3 by the gateway, as in standalone mode,
// and never sent to the centre (which would answer 14 for a purchase with
// no card).
func TestConnectedUnknownScannedCode(t *testing.T) {
	ce := newCentre()
	f := newFixture(t, connectedTo(ce))
	p := f.signedIn("T0000001", 1)
	for _, text := range []string{"hello", "99123456789012345678"} {
		resp, _ := send(t, p, p.CodePurchase(text, 100))
		require.Equal(t, "P3", posclient.RC(resp), text)
		resp, _ = send(t, p, p.CodeInquiry(text))
		require.Equal(t, "P3", posclient.RC(resp), "inquiry with %s", text)
	}
	ce.mu.Lock()
	defer ce.mu.Unlock()
	require.Zero(t, ce.calls, "the centre was asked about a text that is no code")
}
