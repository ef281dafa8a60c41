package store

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func importRows() []Account {
	return []Account{
		{No: 1, Name: "张三", StaffNo: "S1", CardNumber: "000000000001", CardSerial: "10000000000000000001", BalanceFen: 5000, Status: StatusActive},
		{No: 2, Name: "李四", StaffNo: "S2", CardNumber: "000000000002", CardSerial: "10000000000000000002", BalanceFen: 0, Status: StatusFrozen},
	}
}

func TestImportAccountsIdempotent(t *testing.T) {
	db, _ := openTest(t, Options{})
	c, u, err := db.ImportAccounts(t.Context(), importRows())
	require.NoError(t, err)
	require.Equal(t, [2]int{2, 0}, [2]int{c, u})

	var before Account
	view(t, db, func(tx *Tx) error {
		var ok bool
		var err error
		before, ok, err = tx.Account(1)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(5000), before.BalanceFen)
		require.False(t, before.Updated.IsZero())
		return nil
	})

	c, u, err = db.ImportAccounts(t.Context(), importRows())
	require.NoError(t, err)
	require.Equal(t, [2]int{0, 0}, [2]int{c, u}, "re-import changes nothing")
	view(t, db, func(tx *Tx) error {
		a, _, err := tx.Account(1)
		require.NoError(t, err)
		require.Equal(t, before, a)
		return nil
	})
}

func TestImportAccountsUpdatesButNotBalance(t *testing.T) {
	db, _ := openTest(t, Options{})
	_, _, err := db.ImportAccounts(t.Context(), importRows())
	require.NoError(t, err)
	// Money moved since the file was made.
	update(t, db, func(tx *Tx) error {
		a, _, err := tx.Account(1)
		if err != nil {
			return err
		}
		a.BalanceFen = 1234
		return tx.PutAccount(&a)
	})
	rows := importRows()
	// Swap the two cards and change name, status and staff number.
	rows[0].CardNumber, rows[1].CardNumber = rows[1].CardNumber, rows[0].CardNumber
	rows[0].CardSerial, rows[1].CardSerial = rows[1].CardSerial, rows[0].CardSerial
	rows[0].Name, rows[0].StaffNo, rows[0].Status = "张三丰", "S10", StatusLost
	rows[0].BalanceFen = 999999
	rows = append(rows, Account{No: 3, Name: "王五", CardNumber: "000000000003", CardSerial: "10000000000000000003", BalanceFen: 70})
	c, u, err := db.ImportAccounts(t.Context(), rows)
	require.NoError(t, err)
	require.Equal(t, [2]int{1, 2}, [2]int{c, u})
	view(t, db, func(tx *Tx) error {
		a, _, err := tx.Account(1)
		require.NoError(t, err)
		require.Equal(t, int64(1234), a.BalanceFen, "import never touches an existing balance")
		require.Equal(t, "张三丰", a.Name)
		require.Equal(t, StatusLost, a.Status)
		byCard, ok, err := tx.AccountByCard("000000000002")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(1), byCard.No)
		byCard, ok, err = tx.AccountByCard("000000000001")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(2), byCard.No)
		byName, ok, err := tx.AccountByNameStaff("张三丰", "S10")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(1), byName.No)
		a3, ok, err := tx.Account(3)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(70), a3.BalanceFen)
		return nil
	})
}

func TestImportAccountsAllOrNothing(t *testing.T) {
	db, _ := openTest(t, Options{})
	// Account 9 holds a card outside the list.
	update(t, db, func(tx *Tx) error {
		a := Account{No: 9, Name: "x", CardNumber: "000000000002"}
		return tx.PutAccount(&a)
	})
	_, _, err := db.ImportAccounts(t.Context(), importRows())
	require.ErrorIs(t, err, ErrCardInUse)
	view(t, db, func(tx *Tx) error {
		_, ok, err := tx.Account(1)
		require.NoError(t, err)
		require.False(t, ok, "nothing imported when one row fails")
		return nil
	})
}

// A balance beyond store.MaxBalanceFen is refused at import: near the
// int64 limit a later 0.01 top-up would otherwise wrap it negative.
func TestImportRefusesBalanceBeyondTheLimit(t *testing.T) {
	db, _ := openTest(t, Options{})
	_, _, err := db.ImportAccounts(t.Context(), []Account{{No: 1, Name: "A", BalanceFen: math.MaxInt64 - 5, Status: StatusActive}})
	require.ErrorIs(t, err, ErrBadValue)
	_, _, err = db.ImportAccounts(t.Context(), []Account{{No: 1, Name: "A", BalanceFen: MaxBalanceFen, Status: StatusActive}})
	require.NoError(t, err)
}
