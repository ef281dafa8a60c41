// Package daemon assembles a running gateway from its configuration: the
// store, the transaction engine, the POS server, the admin listener and
// metrics; it runs them until told to stop, reloads terminals and keys on
// request, and shuts down in order (stop accepting, finish in-flight
// requests, close the store).
//
// cmd/ecardgw's serve command is a thin wrapper around it; tests start a
// whole gateway in-process with it.
package daemon
