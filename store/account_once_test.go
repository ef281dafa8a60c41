package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// An approval's debit and its journal link are one write of the account:
// what the function leaves is stored, whatever reads it next — the same
// function through the bucket, the next function of the group, a later
// transaction.
func TestAccountPutOncePerApproval(t *testing.T) {
	db, _ := openTest(t, Options{})
	a, b := sampleAccount(1, "C1"), sampleAccount(2, "C2")
	update(t, db, func(tx *Tx) error {
		require.NoError(t, tx.PutAccount(&a))
		return tx.PutAccount(&b)
	})

	update(t, db, func(tx *Tx) error {
		acct, ok, err := tx.AccountByCard("C1")
		require.NoError(t, err)
		require.True(t, ok)
		acct.BalanceFen -= 100
		require.NoError(t, tx.PutAccount(&acct))
		require.True(t, tx.acctDirty, "the debit waits in the cache")
		r := sampleRecord(1, 1)
		seq, err := tx.AppendJournal(&r)
		require.NoError(t, err)
		require.True(t, tx.acctDirty, "the link too")
		// Anything that reads the bucket itself sees both.
		var seen Account
		require.NoError(t, tx.ForEachAccount(func(x *Account) error {
			if x.No == 1 {
				seen = *x
			}
			return nil
		}))
		require.False(t, tx.acctDirty)
		require.Equal(t, a.BalanceFen-100, seen.BalanceFen)
		require.Equal(t, seq, seen.LastSeq)
		// Put again, then another account: the first is written before
		// the cache moves on.
		seen.BalanceFen -= 1
		require.NoError(t, tx.PutAccount(&seen))
		other, ok, err := tx.Account(2)
		require.NoError(t, err)
		require.True(t, ok)
		other.BalanceFen += 7
		return tx.PutAccount(&other)
	})
	// A second function in the same group reads the first one's account.
	var got1, got2 Account
	update(t, db, func(tx *Tx) error {
		var err error
		got1, _, err = tx.Account(1)
		if err != nil {
			return err
		}
		got2, _, err = tx.Account(2)
		return err
	})
	require.Equal(t, a.BalanceFen-101, got1.BalanceFen)
	require.Equal(t, b.BalanceFen+7, got2.BalanceFen)
	require.NotZero(t, got1.LastSeq)

	// A change of card number is not deferred: the index moves with it.
	update(t, db, func(tx *Tx) error {
		acct, _, err := tx.Account(1)
		require.NoError(t, err)
		acct.CardNumber = "C9"
		require.NoError(t, tx.PutAccount(&acct))
		require.False(t, tx.acctDirty)
		_, ok, err := tx.AccountByCard("C9")
		require.True(t, ok)
		return err
	})
	db = reopen(t, db, Options{})
	view(t, db, func(tx *Tx) error {
		x, ok, err := tx.AccountByCard("C9")
		require.True(t, ok)
		require.Equal(t, a.BalanceFen-101, x.BalanceFen)
		return err
	})
}
