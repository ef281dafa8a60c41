// Package loadgen is a closed-loop TCP load client for LEN-prefixed
// frames, used by benchmarks and the POS simulator (cmd/posim): each
// connection sends a frame, waits for its answer (or keeps a fixed
// pipeline of them outstanding) and records the latency in an
// allocation-free log-linear histogram.
//
// The caller supplies the traffic through callbacks (Config.Next builds
// a request, Config.Check judges an answer, Config.Setup runs untimed
// before the load, e.g. a sign-in), so the same driver serves echo tests
// and realistic purchase mixes.
//
// It is not a general benchmark tool: it only targets loopback
// addresses, and every run is bounded in requests and time.
package loadgen
