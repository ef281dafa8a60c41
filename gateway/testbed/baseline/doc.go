// Package baseline is a bare gnet echo server with the gateway's framing:
// it splits LEN-prefixed frames and writes each back on the event loop.
// It measures the event-loop limit, the ceiling that gateway/server's
// worker hand-off and ordering are compared against in benchmarks.
//
// It is not for production: no worker pool, no back-pressure, no idle
// timeout, no connection cap, and a frame error just closes the connection.
package baseline
