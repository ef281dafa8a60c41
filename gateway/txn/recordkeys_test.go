package txn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// TestEveryJournalRecordHasItsOwnKey: the water consumed, journaled with
// a small-wallet load, carries a key of its own (the load's, MTI 9200),
// so that receivers deduplicating by key keep both records.
func TestEveryJournalRecordHasItsOwnKey(t *testing.T) {
	f := newFixture(t)
	s := f.signedIn("S0000001", 1)
	c := newCard(t, "00000000"+cardOK)
	f55, _ := c.initForLoad(1000, false)
	resp, _ := send(t, s, s.WalletLoad(cardOK, 1000, f55))
	require.Equal(t, "00", posclient.RC(resp))
	c.balance, c.counter = 1000-360, 1
	f55, _ = c.initForLoad(360, false)
	resp, _ = send(t, s, s.WalletLoad(cardOK, 360, f55))
	require.Equal(t, "00", posclient.RC(resp))

	keys := map[store.IdemKey]store.Kind{}
	var load, water []store.IdemKey
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			if k, dup := keys[r.Key]; dup {
				t.Errorf("records %s and %s share the key %+v", k, r.Kind, r.Key)
			}
			keys[r.Key] = r.Kind
			switch r.Kind {
			case store.KindLoad:
				load = append(load, r.Key)
			case store.KindWater:
				water = append(water, r.Key)
			}
			return nil
		})
	}))
	require.Len(t, load, 2)
	require.Len(t, water, 2)
	for i := range load {
		require.Equal(t, uint16(200), load[i].MTI)
		require.Equal(t, load[i].Derived(), water[i], "the water record's key is the load's, derived")
		require.Equal(t, uint16(9200), water[i].MTI)
	}
}
