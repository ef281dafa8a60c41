package server

// worker runs Handle for queued requests until the queue is closed.
// Workers are long-lived: no goroutine is created per request.
func (s *Server) worker() {
	defer s.workers.Done()
	for {
		r := s.queue.pop()
		if r == nil {
			return
		}
		if s.handle(r) {
			continue // answered later through Later.Answer
		}
		s.complete(r)
	}
}

// complete hands a handled request's answer to its connection.
func (s *Server) complete(r *request) {
	if b := s.budget; b != nil {
		// An answer larger than the room reserved for it is charged
		// as it is: it exists already.
		if extra := int64(len(r.answer)) - b.unit/2; extra > 0 {
			b.charge(extra)
			r.charge += extra
		}
	}
	if !r.conn.finish(r) {
		s.recycle(r)
	}
}

// handle runs the Handler, turning a panic into a dropped connection: one
// bad request must not take the gateway down with it. It reports whether
// the Handler deferred the answer (LaterHandler).
func (s *Server) handle(r *request) (deferred bool) {
	defer func() {
		if v := recover(); v != nil {
			r.answer, r.closeAfter, r.panicked = nil, true, true
			deferred = false
			// The value may quote request data; log only its type.
			s.log.Error("handler panic", "conn", r.conn.info.ID, "type", typeName(v))
		}
	}()
	if s.later != nil {
		// Later.Answer may run before HandleLater returns: r is not
		// touched here once the answer is deferred.
		answer, closeAfter, deferred := s.later.HandleLater(s.ctx, &r.conn.info, r.buf, Later{s: s, r: r})
		if !deferred {
			r.answer, r.closeAfter = answer, closeAfter
		}
		return deferred
	}
	r.answer, r.closeAfter = s.h.Handle(s.ctx, &r.conn.info, r.buf)
	return false
}

// recycle returns r and its buffers once its answer is written or dropped,
// and takes it off the in-flight count.
func (s *Server) recycle(r *request) {
	s.inflight.Add(-1)
	if r.charge != 0 {
		s.budget.release(r.charge)
	}
	if cap(r.buf) > s.opt.MaxFrame+2 {
		// A handler appended past the frame and grew the buffer; keep the
		// pool's buffers at their nominal size.
		r.buf = make([]byte, 0, s.opt.MaxFrame+2)
	}
	*r = request{buf: r.buf[:0]}
	s.reqPool.Put(r)
}
