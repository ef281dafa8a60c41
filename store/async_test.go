package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestUpdateAsyncAnswersAfterTheCommit: every continuation is called once,
// after its group committed (a read transaction sees its record), and a
// caller that does not wait lets one group carry many functions.
func TestUpdateAsyncAnswersAfterTheCommit(t *testing.T) {
	var maxGroup atomic.Int64
	db, path := openTest(t, Options{OnCommit: func(n int, _ time.Duration, _ error) {
		for m := maxGroup.Load(); int64(n) > m && !maxGroup.CompareAndSwap(m, int64(n)); m = maxGroup.Load() {
		}
	}})
	const n = 300
	calls := make([]atomic.Int32, n)
	seen := make([]bool, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		var seq uint64
		err := db.UpdateAsync(context.Background(), func(tx *Tx) error {
			r := sampleRecord(uint64(i+1), uint32(i+1))
			s, err := tx.AppendJournal(&r)
			seq = s
			return err
		}, func(err error) {
			defer wg.Done()
			calls[i].Add(1)
			if err != nil {
				return
			}
			_ = db.View(func(tx *Tx) error {
				seen[i] = tx.JournalLen() >= seq
				return nil
			})
		})
		require.NoError(t, err)
	}
	wg.Wait()
	for i := range n {
		require.EqualValues(t, 1, calls[i].Load(), "continuation %d", i)
		require.True(t, seen[i], "continuation %d ran before its record was committed", i)
	}
	require.Greater(t, maxGroup.Load(), int64(1), "callers that do not wait share commits")

	// And the records are on disk: a reopened store holds all of them.
	require.NoError(t, db.Close())
	db2, err := Open(path, Options{StorageKey: testKey})
	require.NoError(t, err)
	defer db2.Close()
	require.NoError(t, db2.View(func(tx *Tx) error {
		require.EqualValues(t, n, tx.JournalLen())
		return nil
	}))
}

// TestUpdateAsyncReportsErrorsAndPanics: a failing or panicking function
// gets its own result; the others in its group still commit.
func TestUpdateAsyncReportsErrorsAndPanics(t *testing.T) {
	db, _ := openTest(t, Options{MaxDelay: 20 * time.Millisecond}) // one group
	errNo := errors.New("refused")
	results := make([]error, 3)
	var wg sync.WaitGroup
	wg.Add(3)
	fns := []func(*Tx) error{
		func(tx *Tx) error { r := sampleRecord(1, 1); _, err := tx.AppendJournal(&r); return err },
		func(*Tx) error { return errNo },
		func(*Tx) error { panic("boom") },
	}
	for i, fn := range fns {
		require.NoError(t, db.UpdateAsync(context.Background(), fn, func(err error) {
			results[i] = err
			wg.Done()
		}))
	}
	wg.Wait()
	require.NoError(t, results[0])
	require.ErrorIs(t, results[1], errNo)
	var pe *PanicError
	require.ErrorAs(t, results[2], &pe)
	require.Equal(t, "boom", pe.Value)
	view(t, db, func(tx *Tx) error {
		require.EqualValues(t, 1, tx.JournalLen())
		return nil
	})
}

// TestUpdateAsyncContinuationDoesNotHoldTheCommitter: while a continuation
// runs, the committer goes on with the next groups.
func TestUpdateAsyncContinuationDoesNotHoldTheCommitter(t *testing.T) {
	db, _ := openTest(t, Options{})
	release := make(chan struct{})
	ran := make(chan struct{})
	require.NoError(t, db.UpdateAsync(context.Background(), func(*Tx) error { return nil }, func(error) {
		close(ran)
		<-release
	}))
	<-ran
	done := make(chan error, 1)
	go func() {
		done <- db.Update(context.Background(), func(tx *Tx) error { return tx.PutIdem(IdemKey{Terminal: "T1", STAN: 1}, []byte("x")) })
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("an Update waited for another caller's continuation")
	}
	close(release)
}

// TestUpdateAsyncAndClose: Close commits what is queued and runs its
// continuations before it returns; afterwards UpdateAsync refuses.
func TestUpdateAsyncAndClose(t *testing.T) {
	db, _ := openTest(t, Options{})
	const n = 200
	var called atomic.Int32
	for i := range n {
		require.NoError(t, db.UpdateAsync(context.Background(), func(tx *Tx) error {
			r := sampleRecord(1, uint32(i+1))
			_, err := tx.AppendJournal(&r)
			return err
		}, func(err error) {
			if err == nil {
				called.Add(1)
			}
		}))
	}
	require.NoError(t, db.Close())
	require.EqualValues(t, n, called.Load())
	require.ErrorIs(t, db.UpdateAsync(context.Background(), func(*Tx) error { return nil }, func(error) {
		t.Error("continuation of a refused update")
	}), ErrClosed)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	db2, _ := openTest(t, Options{})
	require.ErrorIs(t, db2.UpdateAsync(ctx, func(*Tx) error { return nil }, func(error) {
		t.Error("continuation of a refused update")
	}), context.Canceled)
}
