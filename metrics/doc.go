// Package metrics holds the gateway's Prometheus collectors on a registry of
// its own, and the typed methods the engine calls to update them.
//
// It is for counting and measuring what the gateway does: connections,
// requests by message class and response code, decode errors, journal
// commits, the outbox, the forwarder, stand-in, campus codes, third-party
// payments, card readers and the store. Every label value comes from a
// small enum (MTIClass, RespCode, CloseReason, ...) whose String maps
// anything unknown to "other", so no input from a terminal can grow the
// number of series. Series are created once in New and kept in arrays
// indexed by those enums: the hot path does no map lookups and no string
// building.
//
// It is not for logging, tracing or per-terminal accounting, and never takes
// a card number, account number, terminal serial or key as a label. It does
// not use the global Prometheus registry, so several gateways (or tests) can
// live in one process.
//
// A nil *Metrics is valid: every method is a no-op, so packages can be
// tested without wiring metrics.
//
// docs/metrics.md lists every metric; a test keeps the two in step.
package metrics
