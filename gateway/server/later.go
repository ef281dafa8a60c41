package server

import "context"

// LaterHandler is a Handler that may answer a request after its Handle
// call returned, from any goroutine: a request waiting on a slow
// dependency (a payment channel, an upstream centre) then holds no worker,
// so requests that do not need that dependency are never queued behind
// it. The server uses HandleLater instead of Handle when the Handler has
// it.
type LaterHandler interface {
	Handler
	// HandleLater is Handle with a way to answer later: when it reports
	// deferred, the answer and closeAfter it returned are ignored and the
	// request stays in flight (it counts against MaxInFlight, keeps its
	// connection from the idle sweep and keeps frame's bytes) until
	// later.Answer is called, exactly once. Answers still go out in
	// request order.
	HandleLater(ctx context.Context, c *ConnInfo, frame []byte, later Later) (answer []byte, closeAfter, deferred bool)
}

// Later answers one deferred request. It is a small value: copying it is
// free and it allocates nothing.
type Later struct {
	s *Server
	r *request
}

// Answer hands the deferred request's answer to its connection (nil: no
// answer; closeAfter closes the connection after it). It may be called
// from any goroutine, once; on a connection closed meanwhile the answer
// is dropped.
func (l Later) Answer(answer []byte, closeAfter bool) {
	if l.r == nil {
		return
	}
	l.r.answer, l.r.closeAfter = answer, closeAfter
	l.s.complete(l.r)
}

// Valid reports whether l names a request (the zero Later does not).
func (l Later) Valid() bool { return l.r != nil }
