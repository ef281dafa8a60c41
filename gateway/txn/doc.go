// Package txn is the gateway's transaction engine: it turns one decoded
// ISO 8583 request from a POS terminal into one answer.
//
// It owns terminal sessions (sign-in, working keys, batches), checks MACs,
// applies the campus card rules of the standalone ledger, and makes every
// financial decision inside a store transaction, so that the journal record,
// the idempotency record and the ledger change are fsynced together before
// the answer leaves (promise 1) and a retransmission gets the stored answer
// byte for byte (promise 2).
//
// It is not the network server (gateway/server hands it complete frames on a
// worker goroutine) and not the codec (codec/iso8583).
package txn
