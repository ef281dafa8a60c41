// Package forward delivers the journal to where the records are kept for
// good: the card centre's record interface (HTTPSink) or a NATS JetStream
// stream (NATSSink), and shares the campus-code replay record between
// gateways through a JetStream key-value bucket (SharedReplay).
//
// The Forwarder keeps promise 3: every journal record is delivered at
// least once, with its idempotency key, in order (strictly by journal
// sequence, so in order per account), in batches, with exponential
// backoff and jitter while the sink fails. A record the sink refuses for
// good is moved to the store's dead letters with the reason and counted,
// never dropped. The delivery position is the store's outbox (or, for a
// second sink, an own position in the store), updated in the same fsynced
// transaction as the dead letters, so after kill -9 delivery resumes
// where it was; a batch in flight at the crash is sent again and the
// receiver drops the duplicates by key.
//
// It is not the journal (store) and decides nothing about records; it
// does not read the network for the POS.
package forward
