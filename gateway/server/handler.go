package server

import (
	"context"
	"net"
	"sync/atomic"
)

// Handler processes requests. One Handler serves all connections, from
// many worker goroutines at once.
type Handler interface {
	// Handle processes one complete frame (LEN included). It runs on a
	// worker goroutine, never on the event loop, and may block (fsync);
	// ctx is cancelled when Shutdown gives up waiting.
	//
	// frame is only valid until Handle returns unless answer aliases it:
	// an answer may be built in place in frame's bytes, and the server
	// keeps them until the answer is written. The returned answer (nil: no
	// answer) is written to the connection in request order; the server
	// does not modify it, and stops using it once written (see
	// AnswerReleaser). closeAfter closes the connection after this answer.
	Handle(ctx context.Context, c *ConnInfo, frame []byte) (answer []byte, closeAfter bool)
}

// MalformedHandler may be implemented by a Handler that wants to see
// frame-level errors (LEN out of bounds). Malformed runs on the event loop,
// so it must not block; the connection is closed after it returns. err
// wraps frame.ErrTooLarge or frame.ErrTooShort and carries no frame bytes.
type MalformedHandler interface {
	Malformed(c *ConnInfo, err error)
}

// AnswerReleaser may be implemented by a Handler that pools its answer
// buffers. ReleaseAnswer is called once the answer's bytes have been
// copied to the socket or to gnet's outbound buffer, or dropped because
// the connection closed. It runs on the event loop (or a worker, for a
// closed connection) and must be cheap. It is not called for nil answers
// or for answers that alias the request frame.
type AnswerReleaser interface {
	ReleaseAnswer(answer []byte)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *ConnInfo, frame []byte) ([]byte, bool)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, c *ConnInfo, frame []byte) ([]byte, bool) {
	return f(ctx, c, frame)
}

var _ Handler = HandlerFunc(nil)

// ConnInfo describes one connection to the Handler. The pointer is stable
// for the connection's life, so a Handler can key per-terminal state on it
// or keep that state in Value.
type ConnInfo struct {
	ID     uint64   // unique per Server, never reused
	Remote net.Addr // the terminal's address
	Local  net.Addr // the gateway's address it connected to

	value atomic.Pointer[valueBox]
}

// valueBox lets Value hold values of different dynamic types over time,
// which atomic.Value refuses.
type valueBox struct{ v any }

// SetValue stores an opaque per-connection value (e.g. the signed-in
// terminal's session). Safe from concurrent Handle calls on the same
// connection.
func (c *ConnInfo) SetValue(v any) { c.value.Store(&valueBox{v: v}) }

// Value returns what SetValue stored, or nil.
func (c *ConnInfo) Value() any {
	if b := c.value.Load(); b != nil {
		return b.v
	}
	return nil
}
