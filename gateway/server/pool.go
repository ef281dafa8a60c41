package server

import "sync"

// workQueue is the hand-off from event loops to workers: one mutex, a
// growable ring of requests and a condition variable. The event loop never
// blocks on it (pushes always succeed); its length is bounded by
// connections × MaxInFlight because a paused connection is not read.
type workQueue struct {
	mu     sync.Mutex
	cond   sync.Cond
	buf    []*request
	head   int
	n      int
	idle   int // workers waiting in cond.Wait, so push signals only when useful
	closed bool
}

func newWorkQueue() *workQueue {
	q := &workQueue{buf: make([]*request, 256)}
	q.cond.L = &q.mu
	return q
}

// push enqueues a batch taken from one read, waking up to len(batch)
// sleeping workers.
func (q *workQueue) push(batch []*request) {
	if len(batch) == 0 {
		return
	}
	q.mu.Lock()
	for _, r := range batch {
		if q.n == len(q.buf) {
			q.grow()
		}
		q.buf[(q.head+q.n)%len(q.buf)] = r
		q.n++
	}
	wake := min(q.idle, len(batch))
	q.mu.Unlock()
	for range wake {
		q.cond.Signal()
	}
}

func (q *workQueue) grow() {
	nb := make([]*request, 2*len(q.buf))
	for i := range q.n {
		nb[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = nb, 0
}

// pop blocks until a request is available or the queue is closed and
// empty (nil).
func (q *workQueue) pop() *request {
	q.mu.Lock()
	for q.n == 0 && !q.closed {
		q.idle++
		q.cond.Wait()
		q.idle--
	}
	if q.n == 0 {
		q.mu.Unlock()
		return nil
	}
	r := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	q.mu.Unlock()
	return r
}

// close lets workers drain what is queued and then exit.
func (q *workQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
