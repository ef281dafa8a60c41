// Package server is the gateway's TCP front end on gnet v2: it accepts
// terminal connections, splits the LEN-prefixed byte stream into frames,
// hands each frame to a bounded worker pool running the Handler, and
// writes the answers back in request order per connection.
//
// It owns the connection-level policies: the connection cap and the
// per-address cap, the idle timeout, the frame timeout against half
// frames trickled in, per-connection back-pressure (MaxInFlight), the
// global buffer budget (BufferBudget), the slow-reader limit
// (MaxPendingWrite) and the lame-duck Shutdown that answers what is in
// flight before closing.
//
// It is not for message semantics: it knows LEN and nothing of ISO 8583
// fields, MACs or sessions. A frame whose LEN is out of bounds closes the
// connection; everything inside a well-framed request (including answering
// 30 for a bad body) is the Handler's business.
//
// Threading: the gnet event loops only split frames, copy them out of the
// loop's buffer and write answers; they never block. Handlers run on the
// worker goroutines and may block (an fsync for group commit), which is why
// the pool should be larger than the number of cores.
package server
