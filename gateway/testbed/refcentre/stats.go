package refcentre

import "sync/atomic"

// counters are in memory only: they describe this process's work, for
// tests and load runs (the ledger itself is the durable truth).
type counters struct {
	auths, authReplays                              atomic.Uint64
	recApplied, recAcked, recDuplicate, recRejected atomic.Uint64
	pays                                            atomic.Uint64
}

// Stats is a snapshot of the counters (GET /admin/stats).
type Stats struct {
	Authorizations   uint64 `json:"authorizations"`
	AuthReplays      uint64 `json:"auth_replays"`
	RecordsApplied   uint64 `json:"records_applied"`
	RecordsAcked     uint64 `json:"records_acked"`
	RecordsDuplicate uint64 `json:"records_duplicate"`
	RecordsRejected  uint64 `json:"records_rejected"`
	Payments         uint64 `json:"payments"`
}

// Stats returns the counters.
func (c *Centre) Stats() Stats {
	s := &c.stats
	return Stats{
		Authorizations: s.auths.Load(), AuthReplays: s.authReplays.Load(),
		RecordsApplied: s.recApplied.Load(), RecordsAcked: s.recAcked.Load(),
		RecordsDuplicate: s.recDuplicate.Load(), RecordsRejected: s.recRejected.Load(),
		Payments: s.pays.Load(),
	}
}
