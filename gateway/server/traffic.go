package server

import (
	"errors"

	"github.com/panjf2000/gnet/v2"

	"ecardgw/codec/frame"
)

// flush writes the answers that are due, in sequence order, with one
// writev.
func (s *Server) flush(cs *connState, gc gnet.Conn) gnet.Action {
	cs.takeReady()
	if len(cs.done) == 0 {
		return gnet.None
	}
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
	for i, r := range cs.done {
		s.recycle(r)
		cs.done[i] = nil
	}
	cs.done = cs.done[:0]
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

// read splits complete frames off the inbound buffer, copies each into a
// pooled request and queues the batch for the workers. Incomplete frames
// stay in gnet's inbound buffer for the next call, and are timed from now
// (the OnTraffic that brought their first byte) by the FrameTimeout sweep.
func (s *Server) read(cs *connState, gc gnet.Conn, now int64) gnet.Action {
	maxInFlight := int32(s.opt.MaxInFlight)
	limit := frame.LenSize + s.opt.MaxFrame
	batch := cs.batch[:0]
	var ferr error
	cs.paused = false
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
		r := s.reqPool.Get().(*request)
		r.buf = append(r.buf[:0], p[:n]...)
		r.conn = cs
		r.seq = cs.nextSeq
		cs.nextSeq++
		cs.inflight.Add(1)
		s.inflight.Add(1)
		_, _ = gc.Discard(n)
		batch = append(batch, r)
	}
	switch {
	case cs.paused || ferr != nil || gc.InboundBuffered() == 0:
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

	if ferr != nil {
		s.frameError(cs, ferr)
		cs.closing = true
		_, _ = gc.Discard(-1)
		if cs.inflight.Load() == 0 {
			return gnet.Close
		}
	}
	if cs.paused && gc.InboundBuffered() > s.opt.MaxPendingRead {
		cs.setReason(CloseReadOverflow)
		return gnet.Close
	}
	return gnet.None
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
