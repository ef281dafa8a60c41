package store

import (
	"encoding/binary"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// journalLeaf returns a leaf page of the journal bucket other than its
// root: one Open itself never reads.
func journalLeaf(t *testing.T, path string) uint64 {
	t.Helper()
	return pageOf(t, path, string(bktJournal), false)
}

// spoilPage gives page id a type no page has.
func spoilPage(t *testing.T, path string, id uint64) {
	p := readPage(t, path, id)
	binary.NativeEndian.PutUint16(p[8:], 0x20)
	writePage(t, path, id, p)
}

// TestCheckBehindFindsDamageAfterOpen: with CheckWait, Open returns while
// the check reads on; damage it finds then stops the store, leaves the
// marker, and the next Open refuses the file before it returns, until a
// sound file replaces it.
func TestCheckBehindFindsDamageAfterOpen(t *testing.T) {
	path := populated(t)
	sound, err := os.ReadFile(path)
	require.NoError(t, err)
	spoilPage(t, path, journalLeaf(t, path))

	opened := make(chan struct{})
	got := make(chan error, 1)
	opt := Options{StorageKey: testKey, CheckWait: time.Millisecond,
		prewarmed: func(warmed) { <-opened },
		OnCheck:   func(err error, st CheckStats) { got <- err }}
	db, err := Open(path, opt)
	require.NoError(t, err, "the damage is below what Open reads itself")
	require.True(t, db.OpenStats().CheckBehind)
	require.False(t, db.Broken())
	update(t, db, func(tx *Tx) error { // served meanwhile
		a := sampleAccount(999, "")
		return tx.PutAccount(&a)
	})
	close(opened)
	select {
	case err = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the check behind the start never ended")
	}
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "invalid type")
	require.True(t, db.Broken())
	require.ErrorIs(t, db.Update(t.Context(), func(*Tx) error { return nil }), ErrCommitUncertain)
	marker, err := os.ReadFile(DamagedMarker(path))
	require.NoError(t, err)
	require.Contains(t, string(marker), "found this store damaged")
	require.NoError(t, db.Close())

	opt.prewarmed, opt.OnCheck = nil, func(error, CheckStats) { t.Error("a check Open waited for is not reported") }
	_, err = Open(path, opt)
	require.ErrorIs(t, err, ErrCorrupt, "refused at once while the marker is there")
	require.ErrorContains(t, err, DamagedMarker(path))

	require.NoError(t, os.WriteFile(path, sound, 0o600)) // restored
	db, err = Open(path, opt)
	require.NoError(t, err)
	require.False(t, db.OpenStats().CheckBehind)
	require.NoFileExists(t, DamagedMarker(path))
	require.NoError(t, db.Close())
}

// TestCheckWaitedForDecidesOpen: a check done within CheckWait refuses a
// damaged file as Open always has, and leaves no marker.
func TestCheckWaitedForDecidesOpen(t *testing.T) {
	path := populated(t)
	spoilPage(t, path, journalLeaf(t, path))
	_, err := Open(path, Options{StorageKey: testKey, CheckWait: time.Minute})
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, path)
	require.NoFileExists(t, DamagedMarker(path))
}

// TestCheckBehindWhileCommitsGoOn: the check reads its snapshot while the
// committer rewrites accounts and grows the journal — pages freed and
// reused all the while — and finds nothing wrong.
func TestCheckBehindWhileCommitsGoOn(t *testing.T) {
	db, path := openTest(t, Options{})
	for g := range 10 {
		update(t, db, func(tx *Tx) error {
			for i := range 1000 {
				a := sampleAccount(uint64(i+1), "")
				a.BalanceFen += int64(g)
				if err := tx.PutAccount(&a); err != nil {
					return err
				}
				r := sampleRecord(uint64(i+1), uint32(g*1000+i))
				if _, err := tx.AppendJournal(&r); err != nil {
					return err
				}
			}
			return nil
		})
	}
	require.NoError(t, db.Close())

	var live atomic.Pointer[DB]
	opened := make(chan struct{})
	got := make(chan error, 1)
	churn := func(round int) {
		d := live.Load()
		require.NoError(t, d.Update(t.Context(), func(tx *Tx) error {
			for i := range 300 {
				a := sampleAccount(uint64(i*3+1), "")
				a.BalanceFen = int64(round)
				if err := tx.PutAccount(&a); err != nil {
					return err
				}
				r := sampleRecord(uint64(i+1), uint32(100000+round*300+i))
				if _, err := tx.AppendJournal(&r); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	db, err := Open(path, Options{StorageKey: testKey, CheckWait: time.Millisecond,
		// Before the walk starts, commits free and reuse pages.
		prewarmed: func(warmed) {
			<-opened
			for r := range 20 {
				churn(r)
			}
		},
		OnCheck: func(err error, st CheckStats) {
			require.Positive(t, st.Pages)
			got <- err
		}})
	require.NoError(t, err)
	defer db.Close()
	live.Store(db)
	close(opened)
	for r := 20; ; r++ {
		select {
		case err := <-got:
			require.NoError(t, err)
			require.False(t, db.Broken())
			return
		case <-time.After(10 * time.Second):
			t.Fatal("the check behind the start never ended")
		default:
			churn(r)
		}
	}
}

// TestCloseStopsTheCheckBehind: Close during the check ends it (its read
// transaction would otherwise hold bbolt's close for ever).
func TestCloseStopsTheCheckBehind(t *testing.T) {
	path := populated(t)
	opened := make(chan struct{})
	var reported atomic.Int32
	db, err := Open(path, Options{StorageKey: testKey, CheckWait: time.Millisecond,
		prewarmed: func(warmed) { <-opened },
		OnCheck: func(err error, _ CheckStats) {
			reported.Add(1)
			require.NoError(t, err)
		}})
	require.NoError(t, err)
	close(opened)
	require.NoError(t, db.Close())
	require.LessOrEqual(t, reported.Load(), int32(1))
	require.NoFileExists(t, DamagedMarker(path))
}
