// Package posclient is a POS terminal built on the codec: it signs in,
// unwraps and checks its working keys, numbers its requests, MACs them and
// checks the MACs of the answers.
//
// The gateway's end-to-end tests, the crash test and posim drive the
// gateway with it, and a POS vendor can read it as a worked example of
// docs/protocol.md. It is not a load generator by itself (see
// gateway/testbed/loadgen) and holds no card data beyond what a request carries.
package posclient
