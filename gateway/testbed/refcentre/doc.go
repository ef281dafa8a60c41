// Package refcentre is the reference card centre: a small, real
// implementation of the centre interface (docs/centre-api.md) on its own
// bbolt ledger, for tests, demos, load runs and integrators.
//
// It holds accounts (imported from the gateway's CSV format), balances,
// status and a versioned blacklist; it authorizes online requests and
// applies each at most once per idempotency key; it deduplicates
// delivered records by key and applies stand-in purchases when they
// arrive; and it simulates a payment channel whose outcome the payment
// code's last digit chooses (see payments.go and docs/centre-api.md). An
// admin interface reports losses, changes status and injects faults
// (latency, down, flapping, garbage answers, every request handled twice)
// for reliability tests.
//
// It is not a production centre: there is no authentication of the admin
// endpoints (listen on loopback), no reconciliation and no real channel.
package refcentre
