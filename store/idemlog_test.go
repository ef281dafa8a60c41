package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// idemModel is what the idempotency record must say: the answer and state
// last written for each key.
type idemModel struct {
	answer map[IdemKey]string
	state  map[IdemKey]TxnState
}

func newIdemModel() *idemModel {
	return &idemModel{answer: map[IdemKey]string{}, state: map[IdemKey]TxnState{}}
}

// write is one random write to key k: PutIdemTxn (an approval), PutIdem
// (a new answer keeping the state) or PutTxn (a refund updating the
// original's state). It applies to m only when apply is set.
func (m *idemModel) write(tx *Tx, rng *rand.Rand, k IdemKey, apply bool) error {
	answer := fmt.Sprintf("answer %d", rng.IntN(1_000_000))
	s := TxnState{Key: k, Account: uint64(rng.IntN(50) + 1), Amount: int64(rng.IntN(10_000) + 1), Kind: "purchase", Time: t0}
	switch rng.IntN(4) {
	case 0:
		if err := tx.PutIdem(k, []byte(answer)); err != nil {
			return err
		}
		if apply {
			m.answer[k] = answer
		}
	case 1:
		s.Refunded = int64(rng.IntN(100))
		if err := tx.PutTxn(&s); err != nil {
			return err
		}
		if apply {
			m.state[k] = s
		}
	default:
		if err := tx.PutIdemTxn(k, Fingerprint{}, []byte(answer), &s); err != nil {
			return err
		}
		if apply {
			m.answer[k] = answer
			m.state[k] = s
		}
	}
	return nil
}

// onCommitter is a require.TestingT for checks run inside Update, on the
// committer goroutine, where a failed require must not call
// runtime.Goexit: that would stop the committer and hang every later
// Update until the test binary times out. It reports the failure on t and
// panics instead; Update re-raises the panic in the test's goroutine.
type onCommitter struct{ t *testing.T }

func (c onCommitter) Errorf(format string, args ...any) { c.t.Errorf(format, args...) }
func (c onCommitter) FailNow()                          { panic("a check on the committer failed (see above)") }
func (c onCommitter) Helper()                           { c.t.Helper() }

// check compares what tx sees with the model: every key, and every batch's
// states in STAN order.
func (m *idemModel) check(t require.TestingT, tx *Tx, terms []string) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	for k, want := range m.answer {
		got, ok, err := tx.Idem(k)
		require.NoError(t, err)
		require.True(t, ok, "answer of %+v", k)
		require.Equal(t, want, string(got), "answer of %+v", k)
	}
	for k, want := range m.state {
		got, ok, err := tx.Txn(k)
		require.NoError(t, err)
		require.True(t, ok, "state of %+v", k)
		require.Equal(t, want.Amount, got.Amount, "state of %+v", k)
		require.Equal(t, want.Refunded, got.Refunded, "state of %+v", k)
		require.Equal(t, want.Account, got.Account, "state of %+v", k)
	}
	for _, term := range terms {
		for batch := uint32(1); batch <= 2; batch++ {
			var want []IdemKey
			for k := range m.state {
				if k.Terminal == term && k.Batch == batch {
					want = append(want, k)
				}
			}
			slices.SortFunc(want, func(a, b IdemKey) int {
				if a.STAN != b.STAN {
					return int(a.STAN) - int(b.STAN)
				}
				return int(a.MTI) - int(b.MTI)
			})
			var got []IdemKey
			require.NoError(t, tx.TxnsOfBatch(term, batch, func(s *TxnState) error {
				require.Equal(t, m.state[s.Key].Amount, s.Amount)
				got = append(got, s.Key)
				return nil
			}))
			require.Equal(t, want, got, "batch %d of %s", batch, term)
		}
	}
	_, ok, err := tx.Idem(IdemKey{Terminal: "NOBODY", Batch: 1, STAN: 1, MTI: 200})
	require.NoError(t, err)
	require.False(t, ok)
}

// logged counts the keys in the idempotency logs and in the idem bucket.
func logged(t *testing.T, db *DB) (inLog, inBucket int) {
	t.Helper()
	require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
		p := tx.Bucket(bktIdemLog)
		for r := range idemRanges {
			seen := map[string]bool{}
			_ = p.Bucket(idemLogName(r)).ForEach(func(_, v []byte) error {
				seen[string(v[:IdemKeySize])] = true
				return nil
			})
			inLog += len(seen)
		}
		inBucket = tx.Bucket(bktIdem).Stats().KeyN
		return nil
	}))
	return inLog, inBucket
}

// TestIdemLogModel drives random idempotency writes from concurrent callers
// (so they share group commits, with some functions failing and their
// groups rerun) and checks, after every round, that the committer, views,
// a reopened store and a read-only open all see exactly the model — while
// values move from the logs into the idem bucket.
func TestIdemLogModel(t *testing.T) {
	// mergeStep 1 and 3: merges spread over many commits, with values
	// rewritten and groups failing between their steps; mergeLast 1: most
	// merges take a second round for what was logged during the first.
	for _, o := range []Options{{mergeAt: 1}, {mergeAt: 40}, {}, {mergeAt: 1, mergeStep: 1}, {mergeAt: 40, mergeStep: 3, mergeLast: 1}} {
		floor := o.mergeAt
		t.Run(fmt.Sprintf("mergeAt=%d,mergeStep=%d,mergeLast=%d", o.mergeAt, o.mergeStep, o.mergeLast), func(t *testing.T) {
			db, _ := openTest(t, o)
			terms := make([]string, 40)
			for i := range terms {
				terms[i] = fmt.Sprintf("T%07d", i+1)
			}
			m := newIdemModel()
			var mu sync.Mutex
			errBoom := errors.New("boom")
			for round := range 12 {
				var wg sync.WaitGroup
				for w := range 24 {
					wg.Go(func() {
						rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
						for range 10 {
							k := IdemKey{Terminal: terms[rng.IntN(len(terms))], Batch: uint32(rng.IntN(2) + 1), STAN: uint32(rng.IntN(60) + 1), MTI: []uint16{200, 220, 400}[rng.IntN(3)]}
							fail := rng.IntN(8) == 0
							seed := rng.Uint64()
							err := db.Update(context.Background(), func(tx *Tx) error {
								r := rand.New(rand.NewPCG(seed, 0))
								// Written before failing: the rollback must drop it.
								if err := m.write(tx, r, k, false); err != nil {
									return err
								}
								if fail {
									return errBoom
								}
								mu.Lock()
								defer mu.Unlock()
								r = rand.New(rand.NewPCG(seed, 0))
								return m.write(tx, r, k, true)
							})
							// assert: require would stop this worker's
							// goroutine, not the test.
							if fail && !assert.ErrorIs(t, err, errBoom) || !fail && !assert.NoError(t, err) {
								return
							}
						}
					})
				}
				wg.Wait()
				if t.Failed() {
					t.FailNow()
				}
				update(t, db, func(tx *Tx) error { m.check(onCommitter{t}, tx, terms); return nil })
				view(t, db, func(tx *Tx) error { m.check(t, tx, terms); return nil })
				if round%4 == 3 {
					db = reopen(t, db, o)
					update(t, db, func(tx *Tx) error { m.check(onCommitter{t}, tx, terms); return nil })
					inLog, _ := logged(t, db)
					require.Equal(t, inLog, db.mem.n, "the committer's mirror after open")
				}
			}
			inLog, inBucket := logged(t, db)
			if floor != 0 { // the default is above this test's volume
				require.NotZero(t, inBucket, "nothing was merged")
			}
			t.Logf("values in the logs %d, in the idem bucket %d", inLog, inBucket)

			path := db.Path()
			require.NoError(t, db.Close())
			ro, err := Open(path, Options{ReadOnly: true, StorageKey: testKey})
			require.NoError(t, err)
			defer ro.Close()
			view(t, ro, func(tx *Tx) error { m.check(t, tx, terms); return nil })
		})
	}
}

// A failed commit leaves the committer's mirror as it was: later commits
// neither see the lost values nor miss the committed ones.
func TestIdemLogFailedCommit(t *testing.T) {
	// mergeStep 2: commits fail in the middle of merges.
	for _, step := range []int{0, 2} {
		t.Run(fmt.Sprintf("mergeStep=%d", step), func(t *testing.T) { testIdemLogFailedCommit(t, step) })
	}
}

func testIdemLogFailedCommit(t *testing.T, step int) {
	var fail atomic.Bool
	errDisk := errors.New("disk full")
	db, _ := openTest(t, Options{mergeAt: 3, mergeStep: step, mergeLast: 1, commitFault: func() error {
		if fail.Load() {
			return errDisk
		}
		return nil
	}})
	keys := make([]IdemKey, 40)
	for i := range keys {
		keys[i] = IdemKey{Terminal: fmt.Sprintf("T%07d", i%7+1), Batch: 1, STAN: uint32(i + 1), MTI: 200}
	}
	for _, k := range keys[:20] {
		update(t, db, func(tx *Tx) error { return tx.PutIdem(k, []byte("kept")) })
	}
	fail.Store(true)
	for _, k := range keys[:30] {
		err := db.Update(context.Background(), func(tx *Tx) error { return tx.PutIdem(k, []byte("lost")) })
		require.ErrorIs(t, err, errDisk)
	}
	fail.Store(false)
	for _, k := range keys[30:] {
		update(t, db, func(tx *Tx) error { return tx.PutIdem(k, []byte("later")) })
	}
	checkAll := func(tx *Tx) error {
		for i, k := range keys {
			got, ok, err := tx.Idem(k)
			require.NoError(t, err)
			switch {
			case i < 20:
				require.Equal(t, "kept", string(got))
			case i < 30:
				require.False(t, ok, "a value of a failed commit is visible")
			default:
				require.Equal(t, "later", string(got))
			}
		}
		return nil
	}
	update(t, db, checkAll)
	view(t, db, checkAll)
	inLog, _ := logged(t, db)
	require.Equal(t, inLog, db.mem.n)
	db = reopen(t, db, Options{})
	update(t, db, checkAll)
}

// Once Update returns, every view begun afterwards sees the value (a
// retransmission's pre-check must find the answer), while commits and
// merges run concurrently.
func TestIdemLogViewsSeeCommitted(t *testing.T) {
	db, _ := openTest(t, Options{mergeAt: 16})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := IdemKey{Terminal: fmt.Sprintf("T%07d", w*31+i%29+1), Batch: 1, STAN: uint32(i + 1), MTI: 200}
				want := fmt.Sprintf("%d/%d", w, i)
				if err := db.Update(context.Background(), func(tx *Tx) error { return tx.PutIdem(k, []byte(want)) }); err != nil {
					t.Error(err)
					return
				}
				if err := db.View(func(tx *Tx) error {
					got, ok, err := tx.Idem(k)
					if err == nil && (!ok || string(got) != want) {
						err = fmt.Errorf("view after commit: %+v = %q, %v; want %q", k, got, ok, want)
					}
					return err
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	_, inBucket := logged(t, db)
	require.NotZero(t, inBucket, "nothing was merged")
}

// A view that began before a merge still finds the merged values (they
// are in its snapshot's log, not yet in its bucket), and a view that the
// mirror does not cover (here: told it is behind) reads its own log.
func TestIdemLogViewAcrossMerge(t *testing.T) {
	db, _ := openTest(t, Options{mergeAt: 4})
	term := "T0000001"
	key := func(i int) IdemKey { return IdemKey{Terminal: term, Batch: 1, STAN: uint32(i), MTI: 200} }
	update(t, db, func(tx *Tx) error {
		for i := 1; i <= 3; i++ {
			if err := tx.PutIdemTxn(key(i), Fingerprint{}, []byte("first"), &TxnState{Key: key(i), Amount: int64(i), Kind: "purchase", Time: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	r := idemRange(mustKey(t, key(1)))
	began := make(chan struct{})
	merged := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- db.View(func(tx *Tx) error {
			close(began)
			<-merged
			for i := 1; i <= 3; i++ {
				got, ok, err := tx.Idem(key(i))
				if err != nil || !ok || string(got) != "first" {
					return fmt.Errorf("key %d: %q %v %v", i, got, ok, err)
				}
			}
			n := 0
			err := tx.TxnsOfBatch(term, 1, func(*TxnState) error { n++; return nil })
			if err == nil && n != 3 {
				err = fmt.Errorf("batch in the old view: %d states", n)
			}
			return err
		})
	}()
	<-began
	// Two more keys of the range: the next commit merges it.
	update(t, db, func(tx *Tx) error {
		if err := tx.PutIdem(key(4), []byte("second")); err != nil {
			return err
		}
		return tx.PutIdem(key(5), []byte("second"))
	})
	update(t, db, func(tx *Tx) error { return nil })
	db.mem.mu.RLock()
	require.Zero(t, db.mem.ranges[r].len(), "the range was not merged")
	db.mem.mu.RUnlock()
	close(merged)
	require.NoError(t, <-done)

	update(t, db, func(tx *Tx) error { return tx.PutIdem(key(6), []byte("third")) })
	// As if that commit were between its fsync and the mirror's update.
	k6 := string(mustKey(t, key(6)))
	db.mem.mu.Lock()
	v6, _ := db.mem.ranges[r].getS(k6)
	db.mem.ranges[r].remove(k6)
	db.mem.applied--
	db.mem.mu.Unlock()
	defer func() {
		db.mem.mu.Lock()
		db.mem.ranges[r].set(k6, v6)
		db.mem.applied++
		db.mem.mu.Unlock()
	}()
	view(t, db, func(tx *Tx) error {
		for i, want := range map[int]string{1: "first", 4: "second", 6: "third"} {
			got, ok, err := tx.Idem(key(i))
			require.NoError(t, err)
			require.True(t, ok, "key %d", i)
			require.Equal(t, want, string(got))
		}
		n := 0
		require.NoError(t, tx.TxnsOfBatch(term, 1, func(*TxnState) error { n++; return nil }))
		require.Equal(t, 3, n)
		return nil
	})
}

func mustKey(t *testing.T, k IdemKey) []byte {
	t.Helper()
	b, err := k.key()
	require.NoError(t, err)
	return b
}

// The committer's mirror holds copies, not slices of a transaction's
// scratch buffer: at low load every commit has its own 16 KiB buffer, and
// a mirror pinning them would hold megabytes for a few hundred values.
func TestIdemLogMirrorCopies(t *testing.T) {
	db, _ := openTest(t, Options{})
	for i := range 20 {
		k := IdemKey{Terminal: fmt.Sprintf("T%07d", i%5+1), Batch: 1, STAN: uint32(i + 1), MTI: 200}
		update(t, db, func(tx *Tx) error { return tx.PutIdem(k, []byte("answer")) })
	}
	n, chunks := 0, 0
	for _, rm := range db.mem.ranges {
		rm.each(func(_ string, v []byte) {
			require.Contains(t, string(v), "answer")
			require.Equal(t, len(v), cap(v), "a mirror value can be appended to in place")
			n++
		})
		chunks += len(rm.chunks)
	}
	require.Equal(t, 20, n)
	require.LessOrEqual(t, chunks, idemRanges, "the values are copied into the mirror's own chunks")
}

// The range of a key decides which log holds it on disk: it is FNV-1a of
// the padded terminal, for ever.
func TestIdemRangeStable(t *testing.T) {
	for _, term := range []string{"T0000001", "T0000002", "S0000126", "API", "K1"} {
		k := mustKey(t, IdemKey{Terminal: term, Batch: 1, STAN: 1, MTI: 200})
		h := fnv.New32a()
		_, _ = h.Write(k[:TerminalMax])
		require.Equal(t, int(h.Sum32()%idemRanges), idemRange(k), term)
		require.Equal(t, idemRange(k), idemRange(string(k)), term)
	}
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = idemRange(string(make([]byte, IdemKeySize))) }))
}

// Under load the merges keep up with the logs: each commit merges more
// keys than it logs, so the logs (and their mirror in memory) stay near
// idemMergeAt however long the load lasts. With a fixed step smaller than
// what each commit logs they grew by the difference at every commit.
func TestIdemMergesKeepUpWithTheLoad(t *testing.T) {
	const at, perCommit, commits = 64, 40, 300
	db, _ := openTest(t, Options{mergeAt: at, mergeStep: 4})
	stan := uint32(0)
	most := 0
	for range commits {
		update(t, db, func(tx *Tx) error {
			for i := range perCommit {
				stan++
				k := IdemKey{Terminal: fmt.Sprintf("T%07d", i%25+1), Batch: 1, STAN: stan, MTI: 200}
				if err := tx.PutIdem(k, []byte("answer")); err != nil {
					return err
				}
			}
			return nil
		})
		most = max(most, db.IdemLogged())
	}
	require.Less(t, most, 2*at+4*perCommit, "the logs grew with the load")
	// And nothing was lost on the way: every value is found.
	view(t, db, func(tx *Tx) error {
		for s := uint32(1); s <= stan; s += 97 {
			i := int(s-1) % perCommit
			_, ok, err := tx.Idem(IdemKey{Terminal: fmt.Sprintf("T%07d", i%25+1), Batch: 1, STAN: s, MTI: 200})
			require.NoError(t, err)
			require.True(t, ok, "STAN %d", s)
		}
		return nil
	})
}
