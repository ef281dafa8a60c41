package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"ecardgw/store/segment"
)

// # A start that serves before every page is checked
//
// Open's consistency check reads the whole file: after a reboot, the
// store's size at the disk's sequential speed, a few hundred milliseconds
// for a million journal records, before a single terminal is answered.
// With Options.CheckWait the check runs over a snapshot (snapcheck.go)
// pinned by a read transaction begun right after the opening commit, on a
// goroutine of its own; Open waits for it up to CheckWait, so a small or
// warm store is still refused before it serves, and a large cold one is
// served while the check reads on. Before Open returns either way,
// bbolt's open has validated the meta pages' checksums and read the
// freelist, and the opening commit has read the root bucket's page and
// rewritten a meta page: a file damaged there is refused at once.
//
// A check behind the start that finds damage stops the store for good
// (Broken: no more commits, so no more answers the file could not keep)
// and writes DamagedMarker beside the file; the gateway then exits and
// its supervisor starts it again. While the marker is there, Open checks
// every page before it returns, so a damaged store is refused at once,
// and the gateway does not serve from it in a restart loop; a store that
// passes (restored from a backup) has its marker removed.

// DamagedMarker is the file a check behind the start writes beside the
// store at path when it finds the store damaged.
func DamagedMarker(path string) string { return path + ".damaged" }

// CheckStats is what a check behind the start did.
type CheckStats struct {
	// Took is the whole check, from the opening commit: the read-ahead,
	// then the walk over every page.
	Took      time.Duration
	ReadAhead time.Duration
	// ReadBytes came from the disk during the read-ahead, CachedBytes
	// were in the page cache already.
	ReadBytes, CachedBytes int64
	// Pages the walk read.
	Pages int64
}

type behindCheck struct {
	cancel context.CancelFunc
	done   chan struct{}
	// st and err are the check's end, set before done is closed.
	st  CheckStats
	err error
}

// WaitCheck waits for a consistency check that was still running when
// Open returned (OpenStats.CheckBehind) and reports it as Options.OnCheck
// was told; without one it returns at once, zero and nil. A check Close
// stopped reports context.Canceled.
func (db *DB) WaitCheck(ctx context.Context) (CheckStats, error) {
	b := db.behind
	if b == nil || !db.stats.CheckBehind {
		return CheckStats{}, nil
	}
	select {
	case <-b.done:
		return b.st, b.err
	case <-ctx.Done():
		return CheckStats{}, ctx.Err()
	}
}

// checkBehind starts the check over a pinned snapshot and waits for it up
// to Options.CheckWait (see the top of the file).
func (db *DB) checkBehind() error {
	marker := DamagedMarker(db.path)
	if _, err := os.Stat(marker); err == nil {
		if err := db.checkNow(); err != nil {
			return fmt.Errorf("%w (a check after an earlier start found it damaged: %s)", err, marker)
		}
		if err := os.Remove(marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: %s passes its consistency check, but the marker of its earlier damage cannot be removed: %w", db.path, err)
		}
		return nil
	}
	t0 := time.Now()
	rtx, err := db.bolt.Begin(false)
	if err != nil {
		return fmt.Errorf("%w: %s: consistency check: %v", ErrCorrupt, db.path, err)
	}
	f, err := os.Open(db.path)
	if err != nil {
		_ = rtx.Rollback()
		return fmt.Errorf("store: consistency check: %w", err)
	}
	m, err := snapshotMeta(f, db.bolt.Info().PageSize, uint64(rtx.ID()))
	if err != nil {
		_ = rtx.Rollback()
		_ = f.Close()
		return fmt.Errorf("%w: %s: consistency check: %v", ErrCorrupt, db.path, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &behindCheck{cancel: cancel, done: make(chan struct{})}
	type outcome struct {
		err error
		st  CheckStats
	}
	result := make(chan outcome)     // to Open, while it waits
	abandoned := make(chan struct{}) // Open waits no more
	go func() {
		defer close(b.done)
		var st CheckStats
		w := prewarmCtx(ctx, db.path)
		st.ReadAhead, st.ReadBytes, st.CachedBytes = time.Since(t0), w.read, w.cached
		if db.opt.prewarmed != nil {
			db.opt.prewarmed(w)
		}
		var err error
		st.Pages, err = checkSnapshot(ctx, f, m)
		_ = rtx.Rollback()
		_ = f.Close()
		st.Took = time.Since(t0)
		if err != nil {
			err = fmt.Errorf("%w: %s: consistency check: %v", ErrCorrupt, db.path, err)
		}
		select {
		case result <- outcome{err, st}:
			return
		case <-abandoned:
		}
		if ctx.Err() != nil {
			b.err = ctx.Err()
			return // Close stopped it
		}
		b.st, b.err = st, err
		if err != nil {
			db.broken.Store(true)
			_ = writeMarker(marker, err)
		}
		if db.opt.OnCheck != nil {
			db.opt.OnCheck(err, st)
		}
	}()
	db.behind = b
	timer := time.NewTimer(db.opt.CheckWait)
	defer timer.Stop()
	select {
	case o := <-result:
		db.stats.ReadAhead, db.stats.ReadBytes, db.stats.CachedBytes = o.st.ReadAhead, o.st.ReadBytes, o.st.CachedBytes
		db.stats.Check = o.st.Took - o.st.ReadAhead
		return o.err
	case <-timer.C:
		close(abandoned)
		db.stats.Check, db.stats.CheckBehind = time.Since(t0), true // read-ahead included
		return nil
	}
}

// writeMarker writes the damage marker and makes it durable.
func writeMarker(path string, cause error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s a consistency check after the gateway started found this store damaged: %v\n",
		time.Now().UTC().Format(time.RFC3339), cause)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = SyncDir(filepath.Dir(path))
	}
	return err
}

// SyncDir fsyncs directory dir, which makes the creation, rename or
// removal of a file in it durable.
func SyncDir(dir string) error { return segment.SyncDir(dir) }

// stopCheck stops a check still running and waits for it: its read
// transaction must end before bbolt closes.
func (db *DB) stopCheck() {
	if b := db.behind; b != nil {
		b.cancel()
		<-b.done
	}
}
