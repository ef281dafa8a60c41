package server

import (
	"errors"
	"time"

	"github.com/panjf2000/gnet/v2"

	"ecardgw/codec/frame"
)

// flush writes the answers that are due, in sequence order, with one
// writev, and returns their requests' charges to the budget.
func (s *Server) flush(cs *connState, gc gnet.Conn, now int64) gnet.Action {
	cs.takeReady()
	if len(cs.done) == 0 {
		return gnet.None
	}
	cs.lastActive.Store(now)
	closeAfter, panicked := false, false
	iov := cs.iov[:0]
	for _, r := range cs.done {
		if closeAfter {
			// Requests after a closing answer are not answered.
			break
		}
		if len(r.answer) > 0 {
			iov = append(iov, r.answer)
		}
		closeAfter, panicked = r.closeAfter, r.panicked
	}
	var werr error
	if len(iov) > 0 {
		// gnet writes directly or copies into its outbound buffer, so the
		// answer buffers are free once Writev returns.
		_, werr = gc.Writev(iov)
	}
	for i := range iov {
		iov[i] = nil
	}
	cs.iov = iov[:0]
	cs.inflight.Add(-int32(len(cs.done)))
	var freed int64
	for i, r := range cs.done {
		freed += r.charge
		r.charge = 0
		s.recycle(r)
		cs.done[i] = nil
	}
	cs.done = cs.done[:0]
	if freed != 0 {
		// Released before the answers left in gnet's outbound buffer are
		// charged (syncOutbound), so the sum never passes the budget.
		s.budget.release(freed)
	}
	switch {
	case werr != nil:
		cs.setReason(CloseIOError)
		return gnet.Close
	case panicked:
		cs.setReason(ClosePanic)
		return gnet.Close
	case closeAfter:
		cs.setReason(CloseHandler)
		return gnet.Close
	case gc.OutboundBuffered() > s.opt.MaxPendingWrite:
		cs.setReason(CloseSlowReader)
		return gnet.Close
	}
	return gnet.None
}

// syncOutbound charges the budget with what gnet's outbound buffer holds
// for cs now, returning what it has sent since the last call.
func (s *Server) syncOutbound(cs *connState, gc gnet.Conn) {
	out := int64(gc.OutboundBuffered())
	old := cs.outAcct.Load()
	switch {
	case out > old:
		cs.outAcct.Store(out)
		s.budget.charge(out - old)
	case out < old:
		cs.outAcct.Store(out)
		s.budget.release(old - out)
	}
}

// read splits complete frames off the inbound buffer, copies each into a
// pooled request and queues the batch for the workers. Incomplete frames
// stay in gnet's inbound buffer for the next call, and are timed from now
// (the OnTraffic that brought their first byte) by the FrameTimeout sweep.
func (s *Server) read(cs *connState, gc gnet.Conn, now int64) gnet.Action {
	maxInFlight := int32(s.opt.MaxInFlight)
	limit := frame.LenSize + s.opt.MaxFrame
	b := s.budget
	batch := cs.batch[:0]
	var ferr error
	cs.paused = false
	blocked := false
	for {
		if cs.inflight.Load() >= maxInFlight {
			cs.paused = true
			break
		}
		avail := gc.InboundBuffered()
		if avail < frame.LenSize {
			break
		}
		p, err := gc.Peek(min(avail, limit))
		if err != nil {
			break
		}
		n, err := frame.Next(p, s.opt.MaxFrame)
		if err != nil {
			ferr = err
			break
		}
		if n == 0 {
			break
		}
		if b != nil && !b.reserve(b.unit) {
			// The frame stays unread until the budget has room.
			cs.paused, blocked = true, true
			break
		}
		r := s.reqPool.Get().(*request)
		if b != nil {
			r.charge = b.unit
		}
		r.buf = append(r.buf[:0], p[:n]...)
		r.conn = cs
		r.seq = cs.nextSeq
		cs.nextSeq++
		cs.inflight.Add(1)
		s.inflight.Add(1)
		_, _ = gc.Discard(n)
		batch = append(batch, r)
	}
	held := gc.InboundBuffered()
	cs.heldIn = held
	switch {
	case cs.paused || ferr != nil || held == 0:
		// Bytes held back by the pause are the server's doing, not the
		// terminal's: not timed.
		cs.awaitNone()
	case len(batch) > 0 || cs.frameStart.Load() == 0:
		cs.frameStart.Store(now) // a new incomplete frame
	}
	s.queue.push(batch)
	for i := range batch {
		batch[i] = nil
	}
	cs.batch = batch[:0]
	if b != nil {
		if cs.budgetWait.Load() != blocked {
			cs.budgetWait.Store(blocked)
		}
		switch {
		case blocked:
			b.wait(cs)
			s.warnBudget(now)
		case b.waiting.Load() > 0 && b.room():
			// Room is left after this connection took what it had: pass
			// the turn on (the connection woken may have had less to
			// take than the room, or have closed meanwhile).
			b.wake()
		}
	}

	if ferr != nil {
		s.frameError(cs, ferr)
		cs.closing = true
		_, _ = gc.Discard(-1)
		cs.heldIn = 0
		if cs.inflight.Load() == 0 {
			return gnet.Close
		}
	}
	if cs.paused && held > s.opt.MaxPendingRead {
		cs.setReason(CloseReadOverflow)
		return gnet.Close
	}
	return gnet.None
}

// warnBudget logs, at most every 10 s, that the budget stopped reading:
// the operator sees why terminals wait.
func (s *Server) warnBudget(now int64) {
	last := s.budgetWarned.Load()
	if now-last < int64(10*time.Second) || !s.budgetWarned.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("buffer budget reached: new frames wait unread until answers drain",
		"budget", s.budget.limit, "buffered", s.budget.used.Load(), "waiting", s.budget.waiting.Load())
}

func (s *Server) frameError(cs *connState, err error) {
	reason := FrameTooShort
	if errors.Is(err, frame.ErrTooLarge) {
		reason = FrameTooLarge
	}
	cs.setReason(CloseFrameError)
	// err names the problem and the announced length, never frame bytes.
	s.log.Debug("frame error", "conn", cs.info.ID, "reason", reason.String(), "err", err)
	if f := s.opt.Hooks.OnFrameError; f != nil {
		f(reason)
	}
}
