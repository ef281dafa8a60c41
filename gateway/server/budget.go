package server

import (
	"sync"
	"sync/atomic"

	"ecardgw/codec/frame"
)

// requestCharge is what one request taken off a connection costs the
// budget until its answer has been handed to the socket: its pooled
// buffer and room for an answer of the same maximum size (an answer built
// in place in the request's bytes is counted twice; the budget errs on
// the safe side).
func requestCharge(maxFrame int) int64 { return 2 * int64(frame.LenSize+maxFrame) }

// budget is the global bound on buffered bytes (Options.BufferBudget):
// requests taken off connections and not yet answered, and answers not
// yet taken by the sockets. A connection that cannot take its next frame
// within the budget leaves it unread and queues itself; bytes returned
// to the budget wake queued connections, oldest first, on their event
// loops. Nothing is dropped: frames wait in the inbound buffers, and
// answers are always written, which is what frees the budget.
type budget struct {
	limit int64
	unit  int64 // requestCharge: the room one more request needs

	used    atomic.Int64
	waiting atomic.Int32 // live entries in queue: the cheap test on the release path

	mu    sync.Mutex
	queue []*connState // FIFO; entries whose queued flag is false have left
	head  int
}

func newBudget(limit, unit int64) *budget { return &budget{limit: limit, unit: unit} }

// reserve takes n bytes if they fit within the limit.
func (b *budget) reserve(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// charge takes n bytes that exist already (an answer larger than its
// reservation, answers the socket did not take), whether they fit or not.
func (b *budget) charge(n int64) { b.used.Add(n) }

// release returns n bytes and wakes queued connections if a request now
// fits.
func (b *budget) release(n int64) {
	u := b.used.Add(-n)
	if b.waiting.Load() > 0 && b.limit-u >= b.unit {
		b.wake()
	}
}

// room reports whether another request fits.
func (b *budget) room() bool { return b.limit-b.used.Load() >= b.unit }

// wait queues cs (on its event loop) to be woken when a request fits.
func (b *budget) wait(cs *connState) {
	b.mu.Lock()
	if !cs.queued {
		cs.queued = true
		b.queue = append(b.queue, cs)
		b.waiting.Add(1)
	}
	b.mu.Unlock()
	// A release between the failed reserve and the queueing saw no
	// waiter and woke nobody: look again now that cs is queued.
	if b.room() {
		b.wake()
	}
}

// leave takes a closed connection off the queue.
func (b *budget) leave(cs *connState) {
	b.mu.Lock()
	if cs.queued {
		cs.queued = false
		b.waiting.Add(-1)
	}
	b.mu.Unlock()
}

// wake wakes queued connections in order, as many as the free room takes
// requests (at least one). A woken connection that finds no room again
// queues itself at the back.
func (b *budget) wake() {
	b.mu.Lock()
	n := max(1, (b.limit-b.used.Load())/b.unit)
	for n > 0 && b.head < len(b.queue) {
		cs := b.queue[b.head]
		b.queue[b.head] = nil
		b.head++
		if !cs.queued {
			continue
		}
		cs.queued = false
		b.waiting.Add(-1)
		// Wake only queues an event for cs's loop; on a connection that
		// has just closed gnet ignores it, and OnClose passes the turn on.
		_ = cs.gc.Wake(nil)
		n--
	}
	switch {
	case b.head == len(b.queue):
		b.queue, b.head = b.queue[:0], 0
	case b.head > len(b.queue)/2:
		k := copy(b.queue, b.queue[b.head:])
		clear(b.queue[k:])
		b.queue, b.head = b.queue[:k], 0
	}
	b.mu.Unlock()
}
