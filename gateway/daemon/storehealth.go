package daemon

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"ecardgw/metrics"
	"ecardgw/store"
)

// storeHealth turns the store's commit results into the store_up gauge and
// into one log line per change of state. A full disk or a failing fsync
// fails every group commit; logging each failure would write a line per
// fsync attempt (hundreds a second under load) onto the same full disk, so
// only the transitions are logged: "cannot write" once, "writable again"
// once. While down, the engine answers financial requests 96 (nothing is
// approved without its journal record) and still answers balance
// inquiries from a read transaction. A commit whose outcome is uncertain
// (store.ErrCommitUncertain) is not "down" but fatal: see fail.
type storeHealth struct {
	m    *metrics.Metrics
	log  *slog.Logger
	down atomic.Bool
	// fatal receives the error of a commit whose outcome is uncertain
	// (store.ErrCommitUncertain): the daemon stops and exits non-zero, for
	// the supervisor to restart it on what is on disk.
	fatal     chan error
	fatalOnce sync.Once
	path      string // the store's file
}

// fail reports an uncertain commit once: readiness goes off at once (the
// store check fails) and Run returns the error.
func (h *storeHealth) fail(err error) {
	h.stop(err, "journal commit failed after it may have reached the disk: no more answers; "+
		"exiting for the supervisor to restart on what is on disk")
}

func (h *storeHealth) stop(err error, msg string, args ...any) {
	h.fatalOnce.Do(func() {
		h.log.Error(msg, append([]any{"err", err}, args...)...)
		h.fatal <- err
	})
}

// checked hears the end of a consistency check that went on behind the
// start (store.check_wait): a damaged file stops the gateway as an
// uncertain commit does, and the store's marker makes the next start
// refuse it before serving.
func (h *storeHealth) checked(err error, st store.CheckStats) {
	took := st.Took.Round(time.Millisecond)
	if err == nil {
		h.log.Info("store check done behind the start: every page sound", "took", took,
			"read_mib", st.ReadBytes>>20, "cached_mib", st.CachedBytes>>20, "pages", st.Pages)
		return
	}
	if !h.down.Swap(true) {
		h.m.SetStoreUp(false)
	}
	h.stop(err, "store consistency check after the start found the file damaged: no more answers; exiting. "+
		"The next start refuses this store until it passes the check: restore the newest backup (ecardgw store restore)",
		"took", took, "marker", store.DamagedMarker(h.path))
}

func (h *storeHealth) onCommit(n int, dur time.Duration, err error) {
	h.m.JournalCommit(dur, n)
	if errors.Is(err, store.ErrCommitUncertain) {
		h.fail(err)
	}
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
