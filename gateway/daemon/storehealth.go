package daemon

import (
	"log/slog"
	"sync/atomic"
	"time"

	"ecardgw/metrics"
)

// storeHealth turns the store's commit results into the store_up gauge and
// into one log line per change of state. A full disk or a failing fsync
// fails every group commit; logging each failure would write a line per
// fsync attempt (hundreds a second under load) onto the same full disk, so
// only the transitions are logged: "cannot write" once, "writable again"
// once. While down, the engine answers financial requests 96 (nothing is
// approved without its journal record) and still answers balance
// inquiries from a read transaction.
type storeHealth struct {
	m    *metrics.Metrics
	log  *slog.Logger
	down atomic.Bool
}

func (h *storeHealth) onCommit(n int, dur time.Duration, err error) {
	h.m.JournalCommit(dur, n)
	if err != nil {
		if !h.down.Swap(true) {
			h.m.SetStoreUp(false)
			h.log.Error("journal commit failed: the store cannot write (disk full or I/O error); "+
				"answering 96 to financial requests, inquiries still served, until a commit succeeds",
				"err", err, "group", n)
		}
		return
	}
	if h.down.Swap(false) {
		h.m.SetStoreUp(true)
		h.log.Warn("store writable again: journal commits succeed, financial requests served")
	}
}
