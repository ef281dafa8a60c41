package server

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
)

// request is one frame on its way through a worker and back. Requests and
// their buffers are pooled: the steady state allocates nothing per frame
// on the server's side.
type request struct {
	conn       *connState
	seq        uint64
	buf        []byte // copy of the frame; the event loop's buffer is reused
	charge     int64  // bytes charged to the budget for this request and its answer
	answer     []byte
	closeAfter bool
	panicked   bool
}

// connState is the server's per-connection state, stored as the gnet
// connection's context.
type connState struct {
	info ConnInfo
	gc   gnet.Conn // set once in OnOpen; Wake/Close on it are concurrency-safe

	// Set in OnOpen, read in OnClose, under Server.regMu.
	addr        netip.Addr // source address, for the per-address count
	addrCounted bool       // counted in Server.perAddr

	// Event-loop only.
	nextSeq uint64     // sequence number of the next request read
	paused  bool       // MaxInFlight or the budget reached; reading resumes on the next flush or wake
	heldIn  int        // inbound bytes left unread at the end of the last OnTraffic
	closing bool       // a frame error: answer what is in flight, read nothing more, then close
	batch   []*request // scratch: requests read in one OnTraffic
	iov     [][]byte   // scratch: answers written in one flush
	done    []*request // scratch: requests whose answers were flushed

	inflight   atomic.Int32 // dispatched, not yet flushed; written by the loop, read by the ticker
	lastActive atomic.Int64 // unix nanoseconds of the last OnTraffic, for the idle sweep
	frameStart atomic.Int64 // unix nanoseconds since an incomplete frame is awaited; 0: none (FrameTimeout sweep)
	budgetWait atomic.Bool  // a complete frame waits for room in the budget (the idle sweep spares it)
	outAcct    atomic.Int64 // answer bytes in gnet's outbound buffer, as last charged to the budget

	queued bool          // in the budget's queue; guarded by budget.mu
	reason atomic.Uint32 // a CloseReason; 0 until one is set

	// mu guards the reorder ring between workers (fill) and the loop
	// (drain in sequence order).
	mu          sync.Mutex
	ring        []*request // finished requests by seq & mask
	mask        uint64
	written     uint64 // next sequence number to write
	wakePending bool   // a Wake is queued; further finishers need not send one
	closed      bool   // OnClose ran; finishers drop their answers
}

func newConnState(id uint64, gc gnet.Conn, maxInFlight int) *connState {
	size := 1
	for size < maxInFlight {
		size <<= 1
	}
	cs := &connState{
		gc:   gc,
		ring: make([]*request, size),
		mask: uint64(size - 1),
	}
	cs.info.ID = id
	cs.info.Remote = gc.RemoteAddr()
	cs.info.Local = gc.LocalAddr()
	return cs
}

// setReason records why the connection is being closed; the first reason
// wins, so a close requested by the idle sweep and one by the loop do not
// overwrite each other.
func (cs *connState) setReason(r CloseReason) bool {
	return cs.reason.CompareAndSwap(0, uint32(r))
}

// awaitNone records that no incomplete frame is awaited.
func (cs *connState) awaitNone() {
	if cs.frameStart.Load() != 0 {
		cs.frameStart.Store(0)
	}
}

// closeReason is the reason set, or 0.
func (cs *connState) closeReason() CloseReason { return CloseReason(cs.reason.Load()) }

// finish is called by a worker when r is done. It parks r in the ring and
// wakes the event loop if r is the next answer due. It reports false when
// the connection is already closed; the caller then recycles r.
func (cs *connState) finish(r *request) bool {
	cs.mu.Lock()
	if cs.closed {
		cs.mu.Unlock()
		return false
	}
	cs.ring[r.seq&cs.mask] = r
	wake := r.seq == cs.written && !cs.wakePending
	if wake {
		cs.wakePending = true
	}
	cs.mu.Unlock()
	if wake {
		// Wake queues an OnTraffic on this connection's loop, where the
		// flush happens; on a closed connection gnet ignores it and
		// OnClose has already recycled the ring.
		_ = cs.gc.Wake(nil)
	}
	return true
}

// takeReady moves the answers that are due, in order, into cs.done.
func (cs *connState) takeReady() {
	cs.mu.Lock()
	for {
		i := cs.written & cs.mask
		r := cs.ring[i]
		if r == nil {
			break
		}
		cs.ring[i] = nil
		cs.written++
		cs.done = append(cs.done, r)
	}
	cs.wakePending = false
	cs.mu.Unlock()
}

// markClosed stops further parking and returns what was parked, so the
// caller can recycle it.
func (cs *connState) markClosed(dst []*request) []*request {
	cs.mu.Lock()
	cs.closed = true
	for i, r := range cs.ring {
		if r != nil {
			dst = append(dst, r)
			cs.ring[i] = nil
		}
	}
	cs.mu.Unlock()
	return dst
}
