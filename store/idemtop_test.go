package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A new request's key above its terminal's top in the keyed bucket is
// known absent without a search; every key the bucket does hold is still
// found, whether above or below the top, before and after merges, after a
// STAN wraps and after a restart.
func TestIdemTopSkipsOnlyWhatIsAbsent(t *testing.T) {
	db, _ := openTest(t, Options{mergeAt: 1})
	key := func(term string, stan uint32) IdemKey {
		return IdemKey{Terminal: term, Batch: 1, STAN: stan, MTI: 200}
	}
	put := func(k IdemKey) {
		update(t, db, func(tx *Tx) error { return tx.PutIdem(k, []byte(fmt.Sprint(k.STAN))) })
	}
	get := func(k IdemKey) string {
		var v []byte
		update(t, db, func(tx *Tx) error {
			var err error
			v, _, err = tx.Idem(k)
			return err
		})
		return string(v)
	}
	for stan := uint32(10); stan <= 50; stan++ {
		put(key("T1", stan))
	}
	put(key("T2", 5))
	require.NoError(t, db.MergeIdemLogs(context.Background()))

	for stan := uint32(10); stan <= 50; stan++ {
		require.Equal(t, fmt.Sprint(stan), get(key("T1", stan)), "stan %d", stan)
	}
	require.Equal(t, "5", get(key("T2", 5)))
	require.Empty(t, get(key("T1", 51)), "new, above the top")
	require.Empty(t, get(key("T1", 9)), "below the top, absent")
	require.Empty(t, get(key("T3", 1)), "a terminal with nothing merged")

	// The top is known now; what merges later raises it.
	var absent bool
	update(t, db, func(tx *Tx) error {
		b, err := tx.bucket(bktIdem)
		if err != nil {
			return err
		}
		k, _ := key("T1", 60).key()
		absent = db.keyedAbsent(b, k)
		return nil
	})
	require.True(t, absent)
	put(key("T1", 60))
	put(key("T3", 1))
	put(key("T1", 2)) // the STAN wrapped
	require.NoError(t, db.MergeIdemLogs(context.Background()))
	for _, k := range []IdemKey{key("T1", 60), key("T3", 1), key("T1", 2), key("T1", 30)} {
		require.Equal(t, fmt.Sprint(k.STAN), get(k), "%v", k)
	}

	db = reopen(t, db, Options{mergeAt: 1})
	for _, k := range []IdemKey{key("T1", 60), key("T3", 1), key("T1", 2), key("T2", 5)} {
		require.Equal(t, fmt.Sprint(k.STAN), get(k), "after a restart: %v", k)
	}
	require.Empty(t, get(key("T1", 61)))
}
