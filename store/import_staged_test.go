package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stagedRows are n accounts from first, each with its own card.
func stagedRows(first uint64, n int, status Status) []Account {
	rows := make([]Account, n)
	for i := range rows {
		no := first + uint64(i)
		card := fmt.Sprintf("%012d", no)
		rows[i] = Account{No: no, Name: fmt.Sprintf("学生%d", no), StaffNo: fmt.Sprintf("S%d", no),
			CardNumber: card, CardSerial: "86100001" + card, BalanceFen: int64(no % 1000), Status: status}
	}
	return rows
}

// snapshot is every account and both indexes as they are.
func snapshot(t *testing.T, db *DB) (accts []Account, cards, names map[string]uint64) {
	t.Helper()
	cards, names = map[string]uint64{}, map[string]uint64{}
	view(t, db, func(tx *Tx) error {
		require.NoError(t, tx.ForEachAccount(func(a *Account) error {
			accts = append(accts, a.clone())
			return nil
		}))
		for name, m := range map[string]map[string]uint64{"cards": cards, "names": names} {
			b, err := tx.bucket([]byte(name))
			require.NoError(t, err)
			require.NoError(t, b.ForEach(func(k, v []byte) error {
				m[string(k)] = u64(v)
				return nil
			}))
		}
		require.Nil(t, tx.btx.Bucket(bktImport), "no staging is left")
		return nil
	})
	return accts, cards, names
}

func u64(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

// A staged import that finds a bad row late (the last row's card is held
// by an account outside the file) fails with nothing imported: the old
// accounts, their indexes and the staging are as before it.
func TestStagedImportFailsLateOldIntact(t *testing.T) {
	db, _ := openTest(t, Options{importChunk: 50})
	_, _, err := db.ImportAccounts(t.Context(), stagedRows(1, 300, StatusActive))
	require.NoError(t, err)
	update(t, db, func(tx *Tx) error {
		a := Account{No: 99999, Name: "outsider", CardNumber: "777777777777"}
		return tx.PutAccount(&a)
	})
	before, bc, bn := snapshot(t, db)

	rows := stagedRows(1, 1000, StatusFrozen) // updates 300, creates 700
	rows[len(rows)-1].CardNumber = "777777777777"
	var steps atomic.Int32
	db.opt.importStep = func(string) { steps.Add(1) }
	_, _, err = db.ImportAccounts(t.Context(), rows)
	require.ErrorIs(t, err, ErrCardInUse)
	require.Greater(t, steps.Load(), int32(20), "the import was staged in chunks before it failed")

	after, ac, an := snapshot(t, db)
	require.Equal(t, before, after)
	require.Equal(t, bc, ac)
	require.Equal(t, bn, an)
}

// A crash in the middle of a staged import (the store closed between two
// of its commits, then opened again) leaves the old accounts as they were
// and the staging gone.
func TestStagedImportCrashOldIntact(t *testing.T) {
	for _, phase := range []string{"stage", "build"} {
		t.Run(phase, func(t *testing.T) {
			db, _ := openTest(t, Options{importChunk: 40})
			_, _, err := db.ImportAccounts(t.Context(), stagedRows(1, 200, StatusActive))
			require.NoError(t, err)
			before, bc, bn := snapshot(t, db)

			n := 0
			db.opt.importStep = func(p string) {
				if p == phase {
					if n++; n == 3 {
						require.NoError(t, db.Close())
					}
				}
			}
			_, _, err = db.ImportAccounts(context.Background(), stagedRows(1, 600, StatusFrozen))
			require.ErrorIs(t, err, ErrClosed)

			var staged bool
			ro, err := Open(db.Path(), Options{StorageKey: testKey, ReadOnly: true})
			require.NoError(t, err)
			require.NoError(t, ro.View(func(tx *Tx) error { staged = tx.btx.Bucket(bktImport) != nil; return nil }))
			require.NoError(t, ro.Close())
			require.True(t, staged, "the crash left a staging behind")

			db2, err := Open(db.Path(), Options{StorageKey: testKey})
			require.NoError(t, err)
			t.Cleanup(func() { _ = db2.Close() })
			after, ac, an := snapshot(t, db2)
			require.Equal(t, before, after)
			require.Equal(t, bc, ac)
			require.Equal(t, bn, an)

			// The next import runs from scratch and completes.
			c, u, err := db2.ImportAccounts(t.Context(), stagedRows(1, 600, StatusFrozen))
			require.NoError(t, err)
			require.Equal(t, [2]int{400, 200}, [2]int{c, u})
		})
	}
}

// A staged import gives the same result as the one-transaction import:
// counts, accounts, indexes, balances kept, cards swapped within the file.
func TestStagedImportMatchesDirect(t *testing.T) {
	base := append(stagedRows(1, 300, StatusActive), stagedRows(5000, 20, StatusActive)...)
	next := stagedRows(1, 900, StatusActive)
	for i := 0; i < 300; i += 7 {
		next[i].Status = StatusLost
	}
	// Accounts 10 and 11 swap cards; 12 takes a fresh one.
	next[9].CardNumber, next[10].CardNumber = next[10].CardNumber, next[9].CardNumber
	next[9].CardSerial, next[10].CardSerial = next[10].CardSerial, next[9].CardSerial
	next[11].CardNumber, next[11].CardSerial = "555555555555", "86100001555555555555"
	next[20].Name = "改名"

	run := func(chunk int) ([]Account, map[string]uint64, map[string]uint64, [2]int) {
		db, _ := openTest(t, Options{importChunk: chunk})
		_, _, err := db.ImportAccounts(t.Context(), base)
		require.NoError(t, err)
		update(t, db, func(tx *Tx) error { // money moved since the file was made
			a, _, err := tx.Account(5)
			require.NoError(t, err)
			a.BalanceFen = 4242
			return tx.PutAccount(&a)
		})
		c, u, err := db.ImportAccounts(t.Context(), next)
		require.NoError(t, err)
		accts, cards, names := snapshot(t, db)
		for i := range accts {
			accts[i].Updated = time.Time{}
		}
		return accts, cards, names, [2]int{c, u}
	}
	sa, sc, sn, scount := run(64)
	da, dc, dn, dcount := run(100000)
	// 600 new; 43 made lost, 2 swapping, 1 new card, 1 renamed.
	require.Equal(t, [2]int{600, 47}, scount)
	require.Equal(t, dcount, scount)
	require.Equal(t, da, sa)
	require.Equal(t, dc, sc)
	require.Equal(t, dn, sn)
	require.Equal(t, int64(4242), sa[4].BalanceFen)
	require.Equal(t, uint64(11), sc[next[10].CardNumber])
	require.Equal(t, uint64(10), sc[next[9].CardNumber])
}

// Writes to accounts while a staged import builds are not lost by its
// switch: balances moved during the import stand, on accounts inside and
// outside the file, and accounts created meanwhile are there.
func TestStagedImportKeepsConcurrentWrites(t *testing.T) {
	db, _ := openTest(t, Options{importChunk: 25})
	_, _, err := db.ImportAccounts(t.Context(), stagedRows(1, 400, StatusActive))
	require.NoError(t, err)

	var mu sync.Mutex
	moved := map[uint64]int64{} // account -> fen spent
	spend := func(no uint64) {
		update(t, db, func(tx *Tx) error {
			a, ok, err := tx.Account(no)
			if err != nil || !ok {
				return err
			}
			a.BalanceFen -= 3
			a.DayFen += 3
			return tx.PutAccount(&a)
		})
		mu.Lock()
		moved[no] += 3
		mu.Unlock()
	}
	steps := 0
	db.opt.importStep = func(p string) {
		if p != "build" {
			return
		}
		steps++
		// Built and not yet built accounts, in and out of the file.
		for _, no := range []uint64{1, 2, 150, 399, 400} {
			spend(no)
		}
		// A new account outside the file, with its own card.
		no := uint64(10000 + steps)
		update(t, db, func(tx *Tx) error {
			a := Account{No: no, Name: "new", CardNumber: fmt.Sprintf("9%011d", no), BalanceFen: 7}
			return tx.PutAccount(&a)
		})
	}
	rows := stagedRows(1, 300, StatusFrozen) // 1..300 change, 301..400 are not in the file
	c, u, err := db.ImportAccounts(t.Context(), rows)
	require.NoError(t, err)
	require.Equal(t, [2]int{0, 300}, [2]int{c, u})
	require.Greater(t, steps, 5)

	view(t, db, func(tx *Tx) error {
		for no, spent := range moved {
			a, ok, err := tx.Account(no)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, int64(no%1000)-spent, a.BalanceFen, "account %d", no)
			require.Equal(t, spent, a.DayFen, "account %d", no)
			want := StatusActive
			if no <= 300 {
				want = StatusFrozen
			}
			require.Equal(t, want, a.Status, "account %d", no)
		}
		for i := 1; i <= steps; i++ {
			no := uint64(10000 + i)
			a, ok, err := tx.AccountByCard(fmt.Sprintf("9%011d", no))
			require.NoError(t, err)
			require.True(t, ok, "account %d created during the import", no)
			require.Equal(t, no, a.No)
		}
		return nil
	})
}

// A write during the import that makes a card of the file held twice
// stands, and the import fails with nothing imported.
func TestStagedImportConflictingWriteWins(t *testing.T) {
	db, _ := openTest(t, Options{importChunk: 20})
	_, _, err := db.ImportAccounts(t.Context(), stagedRows(1, 100, StatusActive))
	require.NoError(t, err)
	// The file has accounts 1..99 (100 stays outside it); account 1 gets
	// a new card.
	rows := stagedRows(1, 99, StatusFrozen)
	rows[0].CardNumber, rows[0].CardSerial = "444444444444", "86100001444444444444"
	n := 0
	db.opt.importStep = func(p string) {
		if p == "build" {
			if n++; n == 2 { // account 1 is built: its new card is in the next generation
				update(t, db, func(tx *Tx) error { // account 100 is given the same card live
					a, _, err := tx.Account(100)
					require.NoError(t, err)
					a.CardNumber, a.CardSerial = "444444444444", "86100001444444444444"
					return tx.PutAccount(&a)
				})
			}
		}
	}
	_, _, err = db.ImportAccounts(t.Context(), rows)
	require.ErrorIs(t, err, ErrCardInUse)
	view(t, db, func(tx *Tx) error {
		a, ok, err := tx.AccountByCard("444444444444")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(100), a.No, "the live write stands")
		a1, _, err := tx.Account(1)
		require.NoError(t, err)
		require.Equal(t, StatusActive, a1.Status, "nothing of the import is live")
		require.Nil(t, tx.btx.Bucket(bktImport))
		return nil
	})
}
