package txn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// TestInquiryWithoutJournal: when no journal record can be written (here
// the store is read-only, the hardest form of a full disk), a purchase is
// answered 96 and changes nothing, and a balance inquiry is still answered
// from a read transaction, MAC'd with the session's key.
func TestInquiryWithoutJournal(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	resp, _ := send(t, p, p.CardPurchase(cardOK, 300, nil))
	require.Equal(t, "00", posclient.RC(resp))
	require.NoError(t, f.db.Close())

	db, err := store.Open(f.path, store.Options{StorageKey: storeKey, ReadOnly: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	eng, err := txn.New(txn.Config{DB: db, Terminals: terminals(), Now: f.clock, WalletMasterKey: walletMK})
	require.NoError(t, err)
	f.db, f.eng = db, eng

	resp, _ = send(t, p, p.CardPurchase(cardOK, 500, nil))
	require.Equal(t, "96", posclient.RC(resp), "no approval without a journal record")
	resp, _ = send(t, p, p.CardInquiry(cardOK))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000-300), balance54(t, resp)[0].Amount)
	require.Equal(t, int64(10000-300), f.balance(1001))
}
