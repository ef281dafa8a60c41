package refcentre

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the centre's own file (not the gateway's store schema).
var (
	bktAccounts  = []byte("accounts")  // no (u64) -> account JSON
	bktCards     = []byte("cards")     // card number -> no (u64)
	bktVersions  = []byte("versions")  // account version (u64) -> no (u64); Sequence is the current version
	bktBlacklist = []byte("blacklist") // version (u32) -> blEntry JSON
	bktOps       = []byte("ops")       // idempotency key text -> op JSON
	bktTombs     = []byte("tombs")     // idempotency key text -> time, reversal seen before its original
	bktTrades    = []byte("trades")    // trade no -> trade JSON
	bktRefunds   = []byte("refunds")   // refund no -> refund JSON
)

var allBuckets = [][]byte{bktAccounts, bktCards, bktVersions, bktBlacklist, bktOps, bktTombs, bktTrades, bktRefunds}

// FileName is the ledger's file inside the data directory.
const FileName = "centre.db"

// Options tune the simulator; zero values are the documented defaults.
type Options struct {
	// PayDelay is how long a code ending in 9 takes to be paid (2 s).
	PayDelay time.Duration
	// PayingPolls is how many queries a code ending in 5 answers "user
	// paying" before it is paid (2).
	PayingPolls int
	// Now is the clock (time.Now).
	Now func() time.Time
	// NoSync skips fsync: for fuzzing and throwaway demos only, never
	// for a ledger whose contents matter.
	NoSync bool
}

// Centre is the reference centre's ledger and logic. Safe for concurrent
// use.
type Centre struct {
	db     *bolt.DB
	opt    Options
	faults atomic.Pointer[Faults]
	flapN  atomic.Uint64
	stats  counters
}

// Open opens (creating it if needed) the ledger in dir.
func Open(dir string) (*Centre, error) { return OpenOptions(dir, Options{}) }

// OpenOptions is Open with simulator options.
func OpenOptions(dir string, o Options) (*Centre, error) {
	if o.PayDelay <= 0 {
		o.PayDelay = 2 * time.Second
	}
	if o.PayingPolls <= 0 {
		o.PayingPolls = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("refcentre: open ledger: %w", err)
	}
	db.NoSync = o.NoSync
	// Concurrent authorizations share a commit (DB.Batch); a short delay
	// keeps a lone request fast while a busy centre still groups fsyncs.
	db.MaxBatchDelay = 2 * time.Millisecond
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	c := &Centre{db: db, opt: o}
	c.faults.Store(&Faults{})
	return c, nil
}

// Close closes the ledger.
func (c *Centre) Close() error { return c.db.Close() }

func (c *Centre) now() time.Time { return c.opt.Now().UTC() }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func getJSON(b *bolt.Bucket, k []byte, v any) (bool, error) {
	raw := b.Get(k)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, ErrCorrupt
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}
