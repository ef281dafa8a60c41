package txn_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
)

// versioned numbers the double centre's answers with an account version.
type versioned struct {
	*centre
	v atomic.Uint64
}

func (c *versioned) Authorize(ctx context.Context, r txn.AuthRequest) (txn.AuthResult, error) {
	res, err := c.centre.Authorize(ctx, r)
	res.Version = c.v.Load()
	return res, err
}

// TestReplicaKeepsTheNewerState: an online answer older than the account
// snapshot the replica already holds does not overwrite it (the POS still
// gets the centre's answer); a newer one does; a snapshot older than an
// answer is refused.
func TestReplicaKeepsTheNewerState(t *testing.T) {
	ce := &versioned{centre: newCentre()}
	f := newFixture(t, func(cfg *txn.Config) {
		connectedTo(ce.centre)(cfg)
		cfg.Centre = ce
	})
	p := f.signedIn("T0000001", 1)
	require.True(t, f.eng.NoteReplicaVersion(1001, 50), "a snapshot at version 50 is written")
	require.Equal(t, int64(10000), f.balance(1001))

	ce.v.Store(40) // the centre answered before the snapshot was read
	resp, _ := send(t, p, p.CardPurchase(cardOK, 1200, nil))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(8800), balance54(t, resp)[0].Amount, "the POS gets the centre's balance")
	require.Equal(t, int64(10000), f.balance(1001), "the replica keeps the newer snapshot")

	ce.v.Store(60)
	resp, _ = send(t, p, p.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(8700), f.balance(1001), "a newer answer is written")
	require.False(t, f.eng.NoteReplicaVersion(1001, 55), "an older snapshot is not")
	require.True(t, f.eng.NoteReplicaVersion(1001, 60))
	require.True(t, f.eng.NoteReplicaVersion(1002, 1), "accounts are apart")
}
