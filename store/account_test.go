package store

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAccountPutGetAndIndexes(t *testing.T) {
	db, _ := openTest(t, Options{})
	a := sampleAccount(1001, "000000001234")
	update(t, db, func(tx *Tx) error { return tx.PutAccount(&a) })

	view(t, db, func(tx *Tx) error {
		got, ok, err := tx.Account(1001)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, a, got)

		got, ok, err = tx.AccountByCard("000000001234")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(1001), got.No)

		got, ok, err = tx.AccountByNameStaff("张三", "S2023001")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(1001), got.No)

		_, ok, err = tx.Account(9)
		require.NoError(t, err)
		require.False(t, ok)
		_, ok, err = tx.AccountByCard("999999999999")
		require.NoError(t, err)
		require.False(t, ok)
		_, ok, err = tx.AccountByNameStaff("张三", "other")
		require.NoError(t, err)
		require.False(t, ok)
		return nil
	})
}

func TestAccountCardAndNameChangeMovesIndex(t *testing.T) {
	db, _ := openTest(t, Options{})
	a := sampleAccount(1, "000000000001")
	update(t, db, func(tx *Tx) error { return tx.PutAccount(&a) })
	a.CardNumber, a.Name, a.StaffNo = "000000000002", "李四", "S9"
	update(t, db, func(tx *Tx) error { return tx.PutAccount(&a) })
	view(t, db, func(tx *Tx) error {
		_, ok, err := tx.AccountByCard("000000000001")
		require.NoError(t, err)
		require.False(t, ok, "old card number must not find the account")
		got, ok, err := tx.AccountByCard("000000000002")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(1), got.No)
		_, ok, err = tx.AccountByNameStaff("张三", "S2023001")
		require.NoError(t, err)
		require.False(t, ok)
		_, ok, err = tx.AccountByNameStaff("李四", "S9")
		require.NoError(t, err)
		require.True(t, ok)
		return nil
	})
}

func TestAccountCardInUse(t *testing.T) {
	db, _ := openTest(t, Options{})
	a := sampleAccount(1, "000000000001")
	b := sampleAccount(2, "000000000001")
	update(t, db, func(tx *Tx) error { return tx.PutAccount(&a) })
	err := db.Update(t.Context(), func(tx *Tx) error { return tx.PutAccount(&b) })
	require.ErrorIs(t, err, ErrCardInUse)
	require.NotContains(t, err.Error(), "000000000001")
}

func TestAccountRejects(t *testing.T) {
	db, _ := openTest(t, Options{})
	for name, a := range map[string]Account{
		"zero":   {No: 0, Name: "x"},
		"status": {No: 1, Name: "x", Status: Status(9)},
	} {
		t.Run(name, func(t *testing.T) {
			err := db.Update(t.Context(), func(tx *Tx) error { return tx.PutAccount(&a) })
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrBadKey) || errors.Is(err, ErrBadValue))
		})
	}
}

func TestForEachAccount(t *testing.T) {
	db, _ := openTest(t, Options{})
	update(t, db, func(tx *Tx) error {
		for _, no := range []uint64{30, 10, 20} {
			a := Account{No: no, Name: "n"}
			if err := tx.PutAccount(&a); err != nil {
				return err
			}
		}
		return nil
	})
	var seen []uint64
	view(t, db, func(tx *Tx) error {
		return tx.ForEachAccount(func(a *Account) error {
			seen = append(seen, a.No)
			return nil
		})
	})
	require.Equal(t, []uint64{10, 20, 30}, seen)

	stop := errors.New("stop")
	err := db.View(func(tx *Tx) error {
		return tx.ForEachAccount(func(*Account) error { return stop })
	})
	require.ErrorIs(t, err, stop)
}

func TestStatusStringParse(t *testing.T) {
	for _, s := range []Status{StatusActive, StatusFrozen, StatusLost, StatusCancelled} {
		p, err := ParseStatus(s.String())
		require.NoError(t, err)
		require.Equal(t, s, p)
	}
	_, err := ParseStatus("Active")
	require.ErrorIs(t, err, ErrBadValue)
	require.Equal(t, "status(9)", Status(9).String())
}

// The transaction's account cache hands out copies: changing what Account
// returned changes nothing stored, and a PutAccount is what later reads
// (also by card, and after a failed PutAccount) see.
func TestAccountCacheCopies(t *testing.T) {
	db, _ := openTest(t, Options{})
	a := sampleAccount(1, "100000000001")
	b := sampleAccount(2, "100000000002")
	update(t, db, func(tx *Tx) error {
		require.NoError(onCommitter{t}, tx.PutAccount(&a))
		return tx.PutAccount(&b)
	})
	update(t, db, func(tx *Tx) error {
		ct := onCommitter{t} // the checks run on the committer goroutine
		got, ok, err := tx.Account(1)
		require.True(ct, ok)
		require.NoError(ct, err)
		got.CardUID[0] = 99
		got.BalanceFen = 1
		again, _, _ := tx.Account(1)
		require.Equal(ct, a.CardUID, again.CardUID)
		require.Equal(ct, a.BalanceFen, again.BalanceFen)

		again.BalanceFen -= 100
		require.NoError(ct, tx.PutAccount(&again))
		byCard, ok, err := tx.AccountByCard("100000000001")
		require.True(ct, ok)
		require.NoError(ct, err)
		require.Equal(ct, a.BalanceFen-100, byCard.BalanceFen)

		// Taking account 2's card is refused and changes nothing.
		byCard.CardNumber = "100000000002"
		require.ErrorIs(ct, tx.PutAccount(&byCard), ErrCardInUse)
		now, _, _ := tx.Account(1)
		require.Equal(ct, "100000000001", now.CardNumber)
		two, _, _ := tx.Account(2)
		require.Equal(ct, "100000000002", two.CardNumber)
		return nil
	})
	view(t, db, func(tx *Tx) error {
		got, _, err := tx.Account(1)
		require.Equal(t, a.BalanceFen-100, got.BalanceFen)
		require.Equal(t, a.CardUID, got.CardUID)
		return err
	})
}
