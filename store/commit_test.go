package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGroupCommitManyCallersDurable(t *testing.T) {
	var groups, maxGroup atomic.Int64
	db, _ := openTest(t, Options{OnCommit: func(n int, d time.Duration, err error) {
		groups.Add(1)
		for {
			m := maxGroup.Load()
			if int64(n) <= m || maxGroup.CompareAndSwap(m, int64(n)) {
				break
			}
		}
	}})
	const callers = 200
	update(t, db, func(tx *Tx) error {
		for i := range callers {
			if err := tx.PutAccount(&Account{No: uint64(i + 1), Name: "caller"}); err != nil {
				return err
			}
		}
		return nil
	})
	groups.Store(0)
	var wg sync.WaitGroup
	seqs := make([]uint64, callers)
	for i := range callers {
		wg.Go(func() {
			var seq uint64
			err := db.Update(context.Background(), func(tx *Tx) error {
				r := sampleRecord(uint64(i+1), uint32(i+1))
				s, err := tx.AppendJournal(&r)
				seq = s
				if err != nil {
					return err
				}
				return tx.PutIdem(r.Key, []byte(fmt.Sprint(i)))
			})
			if err == nil {
				seqs[i] = seq
			}
		})
	}
	wg.Wait()
	require.Less(t, groups.Load(), int64(callers), "some commits were shared")
	require.Greater(t, maxGroup.Load(), int64(1))

	db = reopen(t, db, Options{})
	view(t, db, func(tx *Tx) error {
		require.Equal(t, uint64(callers), tx.JournalLen())
		for i := range callers {
			require.NotZero(t, seqs[i])
			k := IdemKey{Terminal: "T0000001", Batch: 1, STAN: uint32(i + 1), MTI: 200}
			v, ok, err := tx.Idem(k)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, fmt.Sprint(i), string(v))
			rs, err := tx.LastJournal(1, uint64(i+1))
			require.NoError(t, err)
			require.Len(t, rs, 1)
			require.Equal(t, seqs[i], rs[0].Seq)
		}
		return nil
	})
}

// One failing function must not lose or half-apply the others' writes,
// and its own writes must not land.
func TestGroupCommitFailingFnIsolated(t *testing.T) {
	// A delay makes the callers share groups so the failure happens
	// inside one.
	db, _ := openTest(t, Options{MaxDelay: 20 * time.Millisecond})
	boom := errors.New("boom")
	const callers = 20
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			errs[i] = db.Update(context.Background(), func(tx *Tx) error {
				a := Account{No: uint64(i + 1), Name: "n"}
				if err := tx.PutAccount(&a); err != nil {
					return err
				}
				if i%5 == 0 {
					return boom // after writing: the writes must vanish
				}
				return nil
			})
		})
	}
	wg.Wait()
	db = reopen(t, db, Options{})
	view(t, db, func(tx *Tx) error {
		for i := range callers {
			_, ok, err := tx.Account(uint64(i + 1))
			require.NoError(t, err)
			if i%5 == 0 {
				require.ErrorIs(t, errs[i], boom)
				require.False(t, ok, "failed fn %d wrote", i)
			} else {
				require.NoError(t, errs[i])
				require.True(t, ok, "fn %d lost", i)
			}
		}
		return nil
	})
}

// A function that fails only because of what an earlier one in the group
// did is retried alone on the committed state, and fails there too.
func TestGroupCommitRetryAloneSeesCommittedState(t *testing.T) {
	db, _ := openTest(t, Options{MaxDelay: 50 * time.Millisecond})
	ctx := context.Background()
	var runs atomic.Int32
	var wg sync.WaitGroup
	var errHold, errA, errB error

	// Hold the committer in a function while A, then B, queue up: they
	// are then taken as one group, A first.
	release := make(chan struct{})
	held := make(chan struct{})
	wg.Go(func() {
		errHold = db.Update(ctx, func(tx *Tx) error {
			close(held)
			<-release
			return nil
		})
	})
	<-held
	wg.Go(func() {
		errA = db.Update(ctx, func(tx *Tx) error {
			return tx.PutMeta("a", []byte{1})
		})
	})
	require.Eventually(t, func() bool { return len(db.queue) == 1 }, 5*time.Second, time.Millisecond)
	wg.Go(func() {
		errB = db.Update(ctx, func(tx *Tx) error {
			runs.Add(1)
			v, err := tx.Meta("a")
			if err != nil {
				return err
			}
			if v != nil {
				return errors.New("a already there")
			}
			return tx.PutMeta("b", []byte{1})
		})
	})
	require.Eventually(t, func() bool { return len(db.queue) == 2 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()

	require.NoError(t, errHold)
	require.NoError(t, errA)
	// B failed in A's group (A's write was there), was set aside, and ran
	// again alone on A's committed state, where it fails the same way.
	require.EqualError(t, errB, "a already there")
	require.Equal(t, int32(2), runs.Load(), "once in the group, once alone")
	view(t, db, func(tx *Tx) error {
		a, err := tx.Meta("a")
		require.NoError(t, err)
		require.NotNil(t, a)
		b, err := tx.Meta("b")
		require.NoError(t, err)
		require.Nil(t, b)
		return nil
	})
}

func TestUpdateContextCancelledBeforeStart(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := db.Update(ctx, func(tx *Tx) error { ran = true; return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ran)
}

// The committer checks the context when it takes the call: a call queued
// behind a slow group and cancelled meanwhile is not run.
func TestUpdateContextCancelledWhileQueued(t *testing.T) {
	db, _ := openTest(t, Options{})
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = db.Update(context.Background(), func(tx *Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	done := make(chan error)
	go func() { done <- db.Update(ctx, func(tx *Tx) error { ran = true; return nil }) }()
	// Wait until it is queued, then cancel and let the committer go on.
	require.Eventually(t, func() bool { return len(db.queue) == 1 }, time.Second, time.Millisecond)
	cancel()
	close(release)
	require.ErrorIs(t, <-done, context.Canceled)
	require.False(t, ran)
}

func TestUpdatePanicReachesCaller(t *testing.T) {
	db, _ := openTest(t, Options{})
	require.PanicsWithValue(t, "kaboom", func() {
		_ = db.Update(context.Background(), func(tx *Tx) error { panic("kaboom") })
	})
	// The committer survived.
	update(t, db, func(tx *Tx) error { return tx.PutMeta("after", []byte{1}) })
}

// blockCommitter occupies the committer until the returned func is called,
// so that later calls queue up.
func blockCommitter(t *testing.T, db *DB) (release func()) {
	rel := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = db.Update(context.Background(), func(tx *Tx) error {
			close(started)
			<-rel
			return nil
		})
	}()
	<-started
	return func() { close(rel) }
}

func TestCloseFlushesAndRefuses(t *testing.T) {
	db, path := openTest(t, Options{})
	release := blockCommitter(t, db)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() {
			errs[i] = db.Update(context.Background(), func(tx *Tx) error {
				return tx.PutMeta(fmt.Sprint("k", i), []byte{byte(i)})
			})
		})
	}
	require.Eventually(t, func() bool { return len(db.queue) == 10 }, time.Second, time.Millisecond)
	closed := make(chan error)
	go func() { closed <- db.Close() }()
	release()
	require.NoError(t, <-closed)
	wg.Wait()
	require.ErrorIs(t, db.Update(context.Background(), func(*Tx) error { return nil }), ErrClosed)
	require.ErrorIs(t, db.View(func(*Tx) error { return nil }), ErrClosed)
	require.ErrorIs(t, db.Close(), ErrClosed)

	db2, err := Open(path, Options{})
	require.NoError(t, err)
	defer db2.Close()
	view(t, db2, func(tx *Tx) error {
		for i := range 10 {
			require.NoError(t, errs[i], "queued before Close: must be committed")
			v, err := tx.Meta(fmt.Sprint("k", i))
			require.NoError(t, err)
			require.Equal(t, []byte{byte(i)}, v, "acknowledged write %d lost", i)
		}
		return nil
	})
}

// A failed commit (here: the file may not grow, as on a full disk) is
// reported to every caller of the group, and nothing of it is visible.
func TestCommitErrorReachesWholeGroup(t *testing.T) {
	var hookErr atomic.Value
	db, _ := openTest(t, Options{MaxSize: 1 << 20, OnCommit: func(n int, d time.Duration, err error) {
		if err != nil {
			hookErr.Store(err)
		}
	}})
	release := blockCommitter(t, db)
	const callers = 8
	var wg sync.WaitGroup
	errs := make([]error, callers)
	big := make([]byte, 256<<10) // 8 x 256 KiB cannot fit in 1 MiB
	for i := range callers {
		wg.Go(func() {
			errs[i] = db.Update(context.Background(), func(tx *Tx) error {
				return tx.PutMeta(fmt.Sprint("big", i), big)
			})
		})
	}
	require.Eventually(t, func() bool { return len(db.queue) == callers }, time.Second, time.Millisecond)
	release()
	wg.Wait()
	for i, err := range errs {
		require.Error(t, err, "caller %d", i)
	}
	require.NotNil(t, hookErr.Load())
	view(t, db, func(tx *Tx) error {
		for i := range callers {
			v, err := tx.Meta(fmt.Sprint("big", i))
			require.NoError(t, err)
			require.Nil(t, v)
		}
		return nil
	})
	// The store still works for writes that fit.
	update(t, db, func(tx *Tx) error { return tx.PutMeta("small", []byte{1}) })
}

func TestOnCommitHook(t *testing.T) {
	var n atomic.Int64
	var dur atomic.Int64
	db, _ := openTest(t, Options{OnCommit: func(size int, d time.Duration, err error) {
		if err == nil {
			n.Add(int64(size))
			dur.Add(int64(d))
		}
	}})
	update(t, db, func(tx *Tx) error { return tx.PutMeta("x", []byte{1}) })
	require.Equal(t, int64(1), n.Load())
	require.Positive(t, dur.Load())
}

// committers counts running committer goroutines (of any DB).
func committers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "store.(*DB).committer(")
}

// The committer goroutine ends with Close.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	before := committers()
	db, err := Open(filepath.Join(t.TempDir(), "leak.db"), Options{MaxDelay: time.Millisecond})
	require.NoError(t, err)
	update(t, db, func(tx *Tx) error { return tx.PutMeta("x", []byte{1}) })
	require.Equal(t, before+1, committers())
	require.NoError(t, db.Close())
	require.Eventually(t, func() bool { return committers() == before }, 2*time.Second, 5*time.Millisecond)
}

// Linger waits for company only when the store is busy: a lone request
// on a quiet store is committed at once, while after a group of several
// the committer holds the next group open for more.
func TestGroupCommitLinger(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	db, _ := openTest(t, Options{Linger: 400 * time.Millisecond, OnCommit: func(n int, _ time.Duration, err error) {
		mu.Lock()
		sizes = append(sizes, n)
		mu.Unlock()
	}})
	put := func(k string) error {
		return db.Update(context.Background(), func(tx *Tx) error { return tx.PutMeta(k, []byte{1}) })
	}

	// Quiet: one at a time, no waiting (five lingers would take 2 s).
	start := time.Now()
	for i := range 5 {
		require.NoError(t, put(fmt.Sprint("quiet", i)))
	}
	require.Less(t, time.Since(start), time.Second, "a lone request waited for company")

	// Busy: hold the committer in a function while two more queue up, so
	// that they make a group of two.
	ctx := context.Background()
	release := make(chan struct{})
	held := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	wg.Go(func() {
		errs <- db.Update(ctx, func(tx *Tx) error {
			close(held)
			<-release
			return nil
		})
	})
	<-held
	mu.Lock()
	before := len(sizes)
	mu.Unlock()
	// The pair's group is held in turn (by whichever of its functions
	// runs first) while the next request queues.
	pairRelease := make(chan struct{})
	pairHeld := make(chan struct{})
	var holdPair sync.Once
	for i := range 2 {
		wg.Go(func() {
			errs <- db.Update(ctx, func(tx *Tx) error {
				holdPair.Do(func() {
					close(pairHeld)
					<-pairRelease
				})
				return tx.PutMeta(fmt.Sprint("pair", i), []byte{1})
			})
		})
	}
	require.Eventually(t, func() bool { return len(db.queue) == 2 }, 5*time.Second, time.Millisecond)
	close(release)
	<-pairHeld
	wg.Go(func() { errs <- put("first") })
	require.Eventually(t, func() bool { return len(db.queue) == 1 }, 5*time.Second, time.Millisecond)
	close(pairRelease)
	// The pair is committed and the committer has taken "first": after a
	// busy group it holds the next one open, so "second" joins it.
	require.Eventually(t, func() bool { return len(db.queue) == 0 }, 5*time.Second, time.Millisecond)
	require.NoError(t, put("second"))
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []int{1, 2, 2}, sizes[before:], "group sizes: the held one, the pair, then first and second")
}

// A commit that fails before its meta page reaches the file (a full disk)
// changes nothing: the caller gets the error and the store goes on. One
// that fails after (bbolt wrote the meta page, its fsync failed) may be
// visible to later reads and yet not on disk: the store reports
// ErrCommitUncertain, to that group and to every later Update, and takes
// no more writes.
func TestCommitFailureAfterTheMetaPageStopsTheStore(t *testing.T) {
	var before, after atomic.Bool
	errIO := errors.New("fsync: input/output error")
	db, path := openTest(t, Options{
		commitFault:     func() error { return errIfSet(&before, errIO) },
		FailAfterCommit: func() error { return errIfSet(&after, errIO) },
	})
	k := func(i int) IdemKey { return IdemKey{Terminal: "T0000001", Batch: 1, STAN: uint32(i), MTI: 200} }
	update(t, db, func(tx *Tx) error { return tx.PutIdem(k(1), []byte("one")) })

	before.Store(true)
	err := db.Update(t.Context(), func(tx *Tx) error { return tx.PutIdem(k(2), []byte("two")) })
	require.ErrorIs(t, err, errIO)
	require.NotErrorIs(t, err, ErrCommitUncertain, "nothing reached the file: an ordinary failure")
	before.Store(false)
	update(t, db, func(tx *Tx) error { return tx.PutIdem(k(3), []byte("three")) })

	after.Store(true)
	err = db.Update(t.Context(), func(tx *Tx) error { return tx.PutIdem(k(4), []byte("four")) })
	require.ErrorIs(t, err, ErrCommitUncertain)
	require.ErrorIs(t, err, errIO)
	after.Store(false)
	err = db.Update(t.Context(), func(tx *Tx) error { return tx.PutIdem(k(5), []byte("five")) })
	require.ErrorIs(t, err, ErrCommitUncertain, "no write after an uncertain commit")
	require.NoError(t, db.View(func(tx *Tx) error {
		_, ok, err := tx.Idem(k(5))
		require.False(t, ok)
		return err
	}), "reads still work")
	require.NoError(t, db.Close())

	// Opened again, the file is the truth; writes are taken again.
	db2, err := Open(path, Options{})
	require.NoError(t, err)
	defer func() { _ = db2.Close() }()
	update(t, db2, func(tx *Tx) error { return tx.PutIdem(k(6), []byte("six")) })
}

func errIfSet(b *atomic.Bool, err error) error {
	if b.Load() {
		return err
	}
	return nil
}
