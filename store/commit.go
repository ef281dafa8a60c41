package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// call is one queued Update.
type call struct {
	ctx      context.Context
	fn       func(*Tx) error
	err      error
	panicked any
	hasPanic bool
	// alone: run in a transaction of its own, after the rest of the group
	// (a function that moves buckets must not share a transaction with
	// writes to them).
	alone bool
	done  chan struct{} // closed when finished (Update)
	// then is called with the result instead of closing done
	// (UpdateAsync), on the completer goroutine.
	then func(error)
}

// Update runs fn in a read-write transaction shared with other callers'
// functions (group commit) and returns once that transaction is committed
// and fsynced, or failed. See the package documentation for the contract
// fn must keep (it may run more than once).
//
// If ctx is done before fn starts, Update returns ctx.Err() and fn's
// writes never happen. Once fn has started, Update waits for the commit:
// a caller must never be told "failed" about writes that are on disk.
// A panic in fn is re-raised in the caller's goroutine.
//
// Update keeps a frame of its own (not inlined): the benchmark suite's
// profiles attribute commit waits to it.
//
//go:noinline
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	return db.update(ctx, fn, false)
}

func (db *DB) update(ctx context.Context, fn func(*Tx) error, alone bool) error {
	c := &call{ctx: ctx, fn: fn, alone: alone, done: make(chan struct{})}
	if err := db.enqueue(c); err != nil {
		return err
	}
	<-c.done
	if c.hasPanic {
		panic(c.panicked)
	}
	return c.err
}

// enqueue hands c to the committer, or says why it cannot: c's context
// is done, the store is read-only, broken or closed.
func (db *DB) enqueue(c *call) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	if db.opt.ReadOnly {
		return ErrReadOnly
	}
	if db.broken.Load() {
		return ErrCommitUncertain
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	select {
	case db.queue <- c:
		return nil
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
}

// UpdateAsync is Update for a caller that does not wait: fn runs in a
// group commit exactly as Update's does, and then is called once with the
// result Update would have returned, after the group's commit and fsync
// (or its failure). A function that panicked reports a *PanicError.
//
// then runs on the store's completer goroutine, one call after another,
// while the committer goes on with the next group: keep it short (hand
// the answer to its connection) and never call Update from it.
//
// A non-nil error means fn was not queued (ctx done, read-only, closed or
// broken store) and then will not be called.
func (db *DB) UpdateAsync(ctx context.Context, fn func(*Tx) error, then func(error)) error {
	return db.enqueue(&call{ctx: ctx, fn: fn, then: then})
}

// PanicError is what UpdateAsync reports for a function that panicked
// (Update re-raises the panic in its caller's goroutine instead).
type PanicError struct{ Value any }

func (p *PanicError) Error() string {
	return fmt.Sprintf("store: update function panicked: %T", p.Value)
}

// completer runs UpdateAsync callers' continuations, a group at a time,
// beside the committer.
func (db *DB) completer() {
	defer close(db.completerDone)
	for group := range db.completed {
		for _, c := range group {
			err := c.err
			if c.hasPanic {
				err = &PanicError{Value: c.panicked}
			}
			c.then(err)
		}
	}
}

// committer is the single writer. It takes what is queued (up to
// MaxBatch), runs it in one bbolt transaction, and answers everyone.
func (db *DB) committer() {
	defer close(db.done)
	group := make([]*call, 0, db.opt.MaxBatch)
	for {
		c, ok := <-db.queue
		if !ok {
			return
		}
		group = append(group[:0], c)
		group, ok = db.fill(group)
		db.lastGroup = len(group)
		db.runGroup(group)
		db.handOver()
		clear(group) // drop references so finished calls can be collected
		if !ok {
			return
		}
	}
}

// fill adds what is already queued to group, then, if MaxDelay is set —
// or Linger is and the previous group had company — waits that long for
// more. ok is false once the queue is closed and drained.
func (db *DB) fill(group []*call) (_ []*call, ok bool) {
drain:
	for len(group) < db.opt.MaxBatch {
		select {
		case c, ok := <-db.queue:
			if !ok {
				return group, false
			}
			group = append(group, c)
		default:
			break drain
		}
	}
	wait := db.opt.MaxDelay
	if wait <= 0 && db.lastGroup > 1 {
		wait = db.opt.Linger
	}
	if wait <= 0 || len(group) >= db.opt.MaxBatch {
		return group, true
	}
	if db.timer == nil {
		db.timer = time.NewTimer(wait)
	} else {
		db.timer.Reset(wait)
	}
	defer db.timer.Stop()
	for len(group) < db.opt.MaxBatch {
		select {
		case c, ok := <-db.queue:
			if !ok {
				return group, false
			}
			group = append(group, c)
		case <-db.timer.C:
			return group, true
		}
	}
	return group, true
}

// runGroup commits the group. bbolt has no savepoints, so when a function
// fails the whole shared transaction is rolled back, that function is set
// aside and the rest run again. Set-aside functions then run alone, after
// the others committed, and their callers get that result (as bbolt's own
// Batch does).
func (db *DB) runGroup(group []*call) {
	pending := group[:0:0]
	var alone []*call
	for _, c := range group {
		if err := c.ctx.Err(); err != nil {
			db.finish(c, err)
			continue
		}
		if c.alone {
			alone = append(alone, c)
			continue
		}
		pending = append(pending, c)
	}
	for len(pending) > 0 {
		failed, err := db.runOnce(pending)
		if failed < 0 {
			for _, c := range pending {
				db.finish(c, err)
			}
			break
		}
		alone = append(alone, pending[failed])
		pending = append(pending[:failed], pending[failed+1:]...)
	}
	for _, c := range alone {
		_, err := db.runOnce([]*call{c})
		db.finish(c, err)
	}
}

// runOnce runs calls in one bbolt transaction. If a function fails (error
// or panic) it rolls back and returns that function's index; a group of
// one reports the function's error as err with index -1 so the caller
// can finish it. Otherwise it commits and returns -1 with the commit error.
func (db *DB) runOnce(calls []*call) (failed int, err error) {
	start := time.Now()
	btx, err := db.bolt.Begin(true)
	if err != nil {
		db.observe(len(calls), start, err)
		return -1, err
	}
	// One Tx for the whole group: its scratch space for encoding values is
	// carved up between the functions (bbolt keeps each value until the
	// commit), so a group of hundreds allocates a few buffers, not one each.
	tx := &Tx{btx: btx, db: db}
	for i, c := range calls {
		ferr := db.invoke(c, tx)
		if ferr == nil {
			// The function's account write it left in the cache
			// (account_tx.go), before anything else reads the bucket.
			ferr = tx.flushAccount()
		}
		if ferr == nil {
			continue
		}
		_ = btx.Rollback()
		if len(calls) == 1 {
			return -1, ferr
		}
		return i, nil
	}
	merged, err := db.mergeIdem(tx)
	if err != nil {
		_ = btx.Rollback()
		db.observe(len(calls), start, err)
		return -1, err
	}
	if db.opt.commitFault != nil {
		if err = db.opt.commitFault(); err != nil {
			_ = btx.Rollback()
			db.observe(len(calls), start, err)
			return -1, err
		}
	}
	id := uint64(btx.ID())
	err = btx.Commit()
	if db.opt.FailAfterCommit != nil && err == nil {
		err = db.opt.FailAfterCommit()
	}
	if err == nil {
		db.committedIdem(tx, id, merged)
	} else if db.broken.Load() || db.commitVisible(id) {
		// bbolt reports the failure, but the new meta page may already be
		// in the page cache (a failed fsync after a successful write) and
		// so visible to every later transaction, while the disk may never
		// get it. Answering "failed" could deny what later reads show;
		// answering "done" could promise what a restart loses. Neither is
		// safe: stop taking writes, and let the process restart.
		db.broken.Store(true)
		err = fmt.Errorf("%w: %w", ErrCommitUncertain, err)
	}
	db.observe(len(calls), start, err)
	return -1, err
}

// Broken reports whether a commit failed with ErrCommitUncertain: the
// store takes no more writes, and what reads show may not be on disk.
func (db *DB) Broken() bool { return db.broken.Load() }

// commitVisible reports whether the transaction id is visible to a new
// read transaction after its commit failed (or that cannot be told).
func (db *DB) commitVisible(id uint64) bool {
	rtx, err := db.bolt.Begin(false)
	if err != nil {
		return true
	}
	defer func() { _ = rtx.Rollback() }()
	return uint64(rtx.ID()) >= id
}

// invoke runs one function, turning a panic into a failure whose value is
// re-raised by Update in the caller's goroutine.
func (db *DB) invoke(c *call, tx *Tx) (err error) {
	c.hasPanic, c.panicked = false, nil
	defer func() {
		if r := recover(); r != nil {
			c.hasPanic, c.panicked = true, r
			err = errPanicked
		}
	}()
	return c.fn(tx)
}

func (db *DB) finish(c *call, err error) {
	c.err = err
	if c.then != nil {
		db.finished = append(db.finished, c)
		return
	}
	close(c.done)
}

// handOver gives the group's finished UpdateAsync calls to the completer.
func (db *DB) handOver() {
	if len(db.finished) == 0 {
		return
	}
	db.completed <- db.finished
	db.finished = nil
}

func (db *DB) observe(n int, start time.Time, err error) {
	if db.opt.OnCommit != nil {
		db.opt.OnCommit(n, time.Since(start), err)
	}
}

// errPanicked marks a function that panicked; Update re-panics instead of
// returning it.
var errPanicked = errors.New("store: update function panicked")
