package store

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout this code writes. Open refuses a file with a
// higher version: an older gateway must not write into a layout it does
// not know.
//
// Schema 3 added the idempotency logs (idemlog.go); a schema 2 file is the
// same layout without them and is upgraded by the first writable open.
const SchemaVersion uint32 = 3

// schemaUpgradable is the oldest schema Open still accepts.
const schemaUpgradable uint32 = 2

var keySchema = []byte("schema")

// DB is an open store. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	path string
	opt  Options
	aead cipher.AEAD // nil without a storage key

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *call
	done   chan struct{} // closed when the committer has drained and exited
	// completed carries each group's finished UpdateAsync calls from the
	// committer to the completer; completerDone is closed when it exits.
	completed     chan []*call
	completerDone chan struct{}
	finished      []*call     // this group's finished UpdateAsync calls; committer only
	timer         *time.Timer // MaxDelay or Linger wait; committer goroutine only
	// lastGroup is the size of the group fill gathered last (committer
	// goroutine only): above one, the store is busy and Linger applies.
	lastGroup int
	mem       *idemMem  // the idempotency logs as committed; committer goroutine only
	merge     idemMerge // the idempotency merge in progress; committer goroutine only
	// mergeWanted asks for merges below idemMergeAt until the logs are
	// empty (MergeIdemLogs).
	mergeWanted atomic.Bool

	// broken is set for good by a commit whose outcome is uncertain
	// (ErrCommitUncertain): no write is taken after it.
	broken atomic.Bool

	stats OpenStats // what Open spent its time on

	// behind is the consistency check still running after Open returned
	// (Options.CheckWait; checkbehind.go), nil when none.
	behind *behindCheck

	// idemTop: per terminal, the greatest key the keyed idempotency
	// bucket may hold (idemtop.go); committer only.
	idemTop idemTops

	importMu  sync.Mutex  // one import at a time (import.go)
	importing atomic.Bool // an import is staged: PutAccount keeps it in step
}

// Open opens or creates the store at path, creates missing buckets and
// records the schema version. It refuses a newer schema (ErrNewerSchema),
// a file bbolt cannot open or whose consistency check fails (ErrCorrupt),
// and a file another process holds (ErrLocked).
func Open(path string, opt Options) (*DB, error) {
	opt = opt.withDefaults()
	db := &DB{path: path, opt: opt}
	if len(opt.StorageKey) != 0 {
		if len(opt.StorageKey) != 32 {
			return nil, ErrBadStorageKey
		}
		blk, err := aes.NewCipher(opt.StorageKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadStorageKey, err)
		}
		if db.aead, err = cipher.NewGCM(blk); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	bdb, err := openBolt(path, &bolt.Options{
		Timeout:  opt.LockTimeout,
		ReadOnly: opt.ReadOnly,
		MaxSize:  opt.MaxSize,
		// Explicit: durability is the point of this package.
		NoSync:         false,
		NoFreelistSync: false,
		NoGrowSync:     false,
		// Map address space for the file to grow into, so that growing
		// it does not remap: a remap waits for every open read, stops new
		// ones, and drops the page tables every later access faults back
		// in (tens of milliseconds at a few hundred MB, a spike in every
		// terminal's latency). Address space only; the file and the
		// resident memory grow as data is written.
		InitialMmapSize: opt.MmapSize,
	})
	if err != nil {
		return nil, err
	}
	db.bolt = bdb
	db.stats.Bolt = time.Since(t0)
	if err := db.prepare(); err != nil {
		db.stopCheck()
		_ = bdb.Close()
		return nil, err
	}
	if !opt.ReadOnly {
		if err := db.loadIdemMem(); err != nil {
			db.stopCheck()
			_ = bdb.Close()
			return nil, err
		}
		db.queue = make(chan *call, opt.MaxBatch)
		db.done = make(chan struct{})
		db.completed = make(chan []*call, 4)
		db.completerDone = make(chan struct{})
		go db.committer()
		go db.completer()
	}
	return db, nil
}

// openBolt maps bbolt's errors (and panics: older bbolt versions panic on
// some garbage pages) to the store's sentinels.
func openBolt(path string, o *bolt.Options) (bdb *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			bdb, err = nil, fmt.Errorf("%w: %s: bbolt: %q", ErrCorrupt, path, fmt.Sprint(r))
		}
	}()
	bdb, err = bolt.Open(path, 0o600, o)
	switch {
	case err == nil:
		return bdb, nil
	case errors.Is(err, bolterr.ErrTimeout):
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	case errors.Is(err, bolterr.ErrInvalid), errors.Is(err, bolterr.ErrChecksum),
		errors.Is(err, bolterr.ErrVersionMismatch), errors.Is(err, bolterr.ErrInvalidMapping):
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	default:
		// Permission, missing directory, a file too small to be bbolt...
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
}

// prepare checks the schema, creates the buckets and runs the consistency
// check. A writable open commits first: after a crash that tore one of
// bbolt's two meta pages, bbolt opens from the other one, and the first
// commit rewrites the torn page (it goes to the other slot), so the check
// that follows sees a whole file. A read-only open cannot repair that and
// fails the check; open it writable once.
func (db *DB) prepare() (err error) {
	t0 := time.Now()
	defer func() {
		// bbolt asserts (panics) on some garbage pages.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: bbolt: %q", ErrCorrupt, db.path, fmt.Sprint(r))
		}
	}()
	if db.opt.ReadOnly {
		err = db.bolt.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bktMeta)
			if b == nil {
				return fmt.Errorf("%w: %s: no schema (empty or foreign bbolt file)", ErrCorrupt, db.path)
			}
			return db.checkSchema(b.Get(keySchema))
		})
	} else {
		err = db.bolt.Update(func(tx *bolt.Tx) error {
			if b := tx.Bucket(bktMeta); b != nil {
				if err := db.checkSchema(b.Get(keySchema)); err != nil {
					return err
				}
			}
			for _, name := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return fmt.Errorf("%w: %s: bucket %s: %v", ErrCorrupt, db.path, name, err)
				}
			}
			// An import a crash interrupted never became live: drop
			// what it staged (import.go).
			if tx.Bucket(bktImport) != nil {
				if err := tx.DeleteBucket(bktImport); err != nil {
					return fmt.Errorf("%w: %s: staged import: %v", ErrCorrupt, db.path, err)
				}
			}
			logs := tx.Bucket(bktIdemLog)
			for r := range idemRanges {
				if _, err := logs.CreateBucketIfNotExists(idemLogName(r)); err != nil {
					return fmt.Errorf("%w: %s: idempotency log %d: %v", ErrCorrupt, db.path, r, err)
				}
			}
			return tx.Bucket(bktMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion))
		})
	}
	db.stats.Prepare = time.Since(t0)
	if err != nil || db.opt.SkipCheck {
		return err
	}
	if db.opt.CheckWait > 0 && !db.opt.ReadOnly {
		return db.checkBehind()
	}
	return db.checkNow()
}

// checkNow reads the file ahead and runs bbolt's consistency check over
// every page before Open returns.
func (db *DB) checkNow() error {
	t0 := time.Now()
	w := prewarm(db.path)
	db.stats.ReadAhead, db.stats.ReadBytes, db.stats.CachedBytes = time.Since(t0), w.read, w.cached
	if db.opt.prewarmed != nil {
		db.opt.prewarmed(w)
	}
	t0 = time.Now()
	defer func() { db.stats.Check = time.Since(t0) }()
	return db.check()
}

// OpenStats is what Open spent its time on, in order. After a crash or a
// reboot, start-up is mostly these: the log line of the gateway's store
// open carries them.
type OpenStats struct {
	// Bolt is bbolt's open: its meta pages and freelist.
	Bolt time.Duration
	// Prepare is the opening commit: the schema check, the buckets.
	Prepare time.Duration
	// ReadAhead is reading the file in order ahead of the consistency
	// check: ReadBytes from the disk, CachedBytes skipped because they
	// were in the page cache already (zero with SkipCheck).
	ReadAhead              time.Duration
	ReadBytes, CachedBytes int64
	// Check is bbolt's consistency check over every page (zero with
	// SkipCheck); with Options.CheckWait, the time Open waited for the
	// check over its snapshot, read-ahead included.
	Check time.Duration
	// CheckBehind: the check was still running when Open returned
	// (Options.CheckWait); Options.OnCheck reports its end.
	CheckBehind bool
}

// OpenStats reports what Open spent its time on.
func (db *DB) OpenStats() OpenStats { return db.stats }

func (db *DB) checkSchema(v []byte) error {
	if v == nil {
		return nil // created by a crash between bucket creation and this put
	}
	if len(v) != 4 {
		return fmt.Errorf("%w: %s: schema version unreadable", ErrCorrupt, db.path)
	}
	got := binary.BigEndian.Uint32(v)
	if got > SchemaVersion {
		return fmt.Errorf("%w: %s: file schema %d, this gateway knows %d", ErrNewerSchema, db.path, got, SchemaVersion)
	}
	if got < schemaUpgradable {
		// Schema 1 was a pre-release layout (transaction states in their
		// own bucket, a per-account journal index); no store of it was
		// ever deployed, so there is no migration.
		return fmt.Errorf("%w: %s: file schema %d is a pre-release layout; this gateway reads schema %d and %d", ErrOlderSchema, db.path, got, schemaUpgradable, SchemaVersion)
	}
	return nil
}

// check runs bbolt's consistency check and reports the first problem.
func (db *DB) check() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return fmt.Errorf("%w: %s: consistency check: %v", ErrCorrupt, db.path, first)
		}
		return nil
	})
}

// Path is the file the store was opened from.
func (db *DB) Path() string { return db.path }

// Close stops accepting updates, commits everything already queued, and
// closes the file. Update calls after Close return ErrClosed.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.closed = true
	if db.queue != nil {
		close(db.queue)
	}
	db.mu.Unlock()
	if db.done != nil {
		<-db.done
		close(db.completed)
		<-db.completerDone
	}
	db.stopCheck()
	return db.bolt.Close()
}

// View runs fn in a read-only transaction. Reads do not wait for the
// committer; they see the last committed state. Keep them short: when the
// file outgrows Options.MmapSize, bbolt's remap waits for open reads.
func (db *DB) View(fn func(*Tx) error) error {
	db.mu.RLock()
	closed := db.closed
	db.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	return db.bolt.View(func(btx *bolt.Tx) error {
		return fn(&Tx{btx: btx, db: db})
	})
}

// Backup writes a consistent copy of the whole file to w while the store
// stays online (a read transaction; writers are not blocked).
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.View(func(tx *Tx) error {
		var err error
		n, err = tx.btx.WriteTo(w)
		return err
	})
	return n, err
}
