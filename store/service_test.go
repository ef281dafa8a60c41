package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServiceResult(t *testing.T) {
	db, _ := openTest(t, Options{})
	// Before the bucket exists a read finds nothing and does not fail.
	view(t, db, func(tx *Tx) error {
		_, ok, err := tx.ServiceResult("topup", "T1")
		require.False(t, ok)
		return err
	})
	update(t, db, func(tx *Tx) error {
		if err := tx.PutServiceResult("topup", "T1", []byte("one")); err != nil {
			return err
		}
		// Same id, other kind: a different entry.
		return tx.PutServiceResult("fee", "T1", []byte("two"))
	})
	db = reopen(t, db, Options{})
	view(t, db, func(tx *Tx) error {
		v, ok, err := tx.ServiceResult("topup", "T1")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "one", string(v))
		v, ok, err = tx.ServiceResult("fee", "T1")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "two", string(v))
		_, ok, err = tx.ServiceResult("topup", "T2")
		require.False(t, ok)
		return err
	})
	for _, c := range []struct{ kind, id string }{
		{"", "x"}, {"topup", ""}, {"topup", string(make([]byte, MaxServiceID+1))},
		{string(make([]byte, 33)), "x"},
	} {
		require.NoError(t, db.Update(context.Background(), func(tx *Tx) error {
			ct := onCommitter{t} // the checks run on the committer goroutine
			require.ErrorIs(ct, tx.PutServiceResult(c.kind, c.id, []byte("v")), ErrBadKey)
			_, _, err := tx.ServiceResult(c.kind, c.id)
			require.ErrorIs(ct, err, ErrBadKey)
			return nil
		}))
	}
	update(t, db, func(tx *Tx) error {
		require.ErrorIs(onCommitter{t}, tx.PutServiceResult("topup", "x", nil), ErrBadValue)
		return nil
	})
}

func TestAccountJournalPages(t *testing.T) {
	db, _ := openTest(t, Options{})
	// Accounts 1, 2 and 3 interleaved, so that the index has neighbours on
	// both sides of account 2.
	update(t, db, func(tx *Tx) error {
		for no := uint64(1); no <= 3; no++ {
			if err := tx.PutAccount(&Account{No: no, Name: "chain"}); err != nil {
				return err
			}
		}
		for i := range 30 {
			r := sampleRecord(uint64(1+i%3), uint32(i+1))
			if _, err := tx.AppendJournal(&r); err != nil {
				return err
			}
		}
		return nil
	})
	page := func(account, before uint64, n int) ([]uint64, bool) {
		var got []uint64
		var more bool
		view(t, db, func(tx *Tx) error {
			var err error
			more, err = tx.AccountJournal(account, before, func(r *Record) (bool, error) {
				require.Equal(t, account, r.Account)
				got = append(got, r.Seq)
				return len(got) < n, nil
			})
			return err
		})
		return got, more
	}
	got, more := page(2, 0, 4)
	require.Equal(t, []uint64{29, 26, 23, 20}, got)
	require.True(t, more)
	got, more = page(2, 20, 4)
	require.Equal(t, []uint64{17, 14, 11, 8}, got)
	require.True(t, more)
	got, more = page(2, 8, 4)
	require.Equal(t, []uint64{5, 2}, got)
	require.False(t, more)
	got, more = page(2, 5, 2)
	require.Equal(t, []uint64{2}, got)
	require.False(t, more, "the last record consumed: nothing older")
	got, _ = page(3, 0, 1)
	require.Equal(t, []uint64{30}, got)
	got, _ = page(3, 1000, 1)
	require.Equal(t, []uint64{30}, got, "a cursor past the end starts at the newest")
	got, more = page(9, 0, 5)
	require.Empty(t, got)
	require.False(t, more)
	view(t, db, func(tx *Tx) error {
		_, err := tx.AccountJournal(0, 0, func(*Record) (bool, error) { return true, nil })
		require.ErrorIs(t, err, ErrBadKey)
		return nil
	})
}

func TestTxImportAccountsMatchesDBImport(t *testing.T) {
	rows := []Account{
		{No: 1, Name: "A", StaffNo: "1", CardNumber: "111111111111", CardSerial: "00000000111111111111", BalanceFen: 100},
		{No: 2, Name: "B", StaffNo: "2", CardNumber: "222222222222", CardSerial: "00000000222222222222", BalanceFen: 200, Status: StatusLost},
	}
	db, _ := openTest(t, Options{})
	var created, updated int
	update(t, db, func(tx *Tx) error {
		var err error
		created, updated, err = tx.ImportAccounts(rows, t0)
		return err
	})
	require.Equal(t, [2]int{2, 0}, [2]int{created, updated})

	// Again: nothing changes. Then the two swap cards, and the balance in
	// the file is ignored for existing accounts.
	update(t, db, func(tx *Tx) error {
		var err error
		created, updated, err = tx.ImportAccounts(rows, t0)
		return err
	})
	require.Equal(t, [2]int{0, 0}, [2]int{created, updated})
	swapped := []Account{rows[0], rows[1]}
	swapped[0].CardNumber, swapped[1].CardNumber = rows[1].CardNumber, rows[0].CardNumber
	swapped[0].CardSerial, swapped[1].CardSerial = rows[1].CardSerial, rows[0].CardSerial
	swapped[0].BalanceFen = 999999
	update(t, db, func(tx *Tx) error {
		var err error
		created, updated, err = tx.ImportAccounts(swapped, t0)
		return err
	})
	require.Equal(t, [2]int{0, 2}, [2]int{created, updated})
	view(t, db, func(tx *Tx) error {
		a, ok, err := tx.AccountByCard("222222222222")
		require.True(t, ok)
		require.Equal(t, uint64(1), a.No)
		require.Equal(t, int64(100), a.BalanceFen)
		require.Equal(t, t0, a.Updated)
		return err
	})

	// A card held by an account outside the list: an error, so the caller's
	// whole transaction (and the other rows) roll back.
	thief := []Account{{No: 3, Name: "C", CardNumber: "111111111111", CardSerial: "00000000111111111111"}}
	err := db.Update(context.Background(), func(tx *Tx) error {
		_, _, err := tx.ImportAccounts(thief, t0)
		return err
	})
	require.ErrorIs(t, err, ErrCardInUse)
	view(t, db, func(tx *Tx) error {
		_, ok, err := tx.Account(3)
		require.False(t, ok)
		return err
	})
}

// ServiceResults walks one kind only, in id order; DeleteServiceResult
// removes one result and tolerates an absent one.
func TestServiceResultsOfAKind(t *testing.T) {
	db, _ := openTest(t, Options{})
	update(t, db, func(tx *Tx) error {
		for _, kv := range [][3]string{{"topup", "b", "2"}, {"topup", "a", "1"}, {"topupx", "c", "3"}, {"fee", "d", "4"}} {
			if err := tx.PutServiceResult(kv[0], kv[1], []byte(kv[2])); err != nil {
				return err
			}
		}
		return nil
	})
	list := func(kind string) []string {
		var out []string
		view(t, db, func(tx *Tx) error {
			return tx.ServiceResults(kind, func(id string, v []byte) error {
				out = append(out, id+"="+string(v))
				return nil
			})
		})
		return out
	}
	require.Equal(t, []string{"a=1", "b=2"}, list("topup"))
	require.Equal(t, []string{"d=4"}, list("fee"))
	require.Empty(t, list("nothing"))
	update(t, db, func(tx *Tx) error {
		if err := tx.DeleteServiceResult("topup", "a"); err != nil {
			return err
		}
		return tx.DeleteServiceResult("topup", "absent")
	})
	require.Equal(t, []string{"b=2"}, list("topup"))
	require.Equal(t, []string{"c=3"}, list("topupx"))
}
