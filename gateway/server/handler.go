package server

import (
	"context"
	"net"
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
	// does not modify it, and stops using it once written. closeAfter
	// closes the connection after this answer.
	Handle(ctx context.Context, c *ConnInfo, frame []byte) (answer []byte, closeAfter bool)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *ConnInfo, frame []byte) ([]byte, bool)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, c *ConnInfo, frame []byte) ([]byte, bool) {
	return f(ctx, c, frame)
}

var _ Handler = HandlerFunc(nil)

// ConnInfo describes one connection to the Handler. The pointer is stable
// for the connection's life, so a Handler can key per-terminal state on it.
type ConnInfo struct {
	ID     uint64   // unique per Server, never reused
	Remote net.Addr // the terminal's address
	Local  net.Addr // the gateway's address it connected to
}
