package store

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// # The idempotency log (write-behind of the idem bucket)
//
// The idem bucket is keyed terminal first, so under load the approvals of
// one group commit land on as many different leaf pages as there are
// terminals in the group — a thousand terminals, a thousand 4 KiB pages
// written and fsynced per commit for a few hundred bytes of news each.
//
// So an idempotency value is first appended to a small log instead:
// idemlog holds idemRanges sub-buckets, one per range of terminals (a hash
// of the terminal id), each keyed by its own sequence number, so a commit
// writes only the tail page of each log it appends to. Each commit (once
// enough is logged) also merges one range, round robin: every value logged
// for that range goes into the idem bucket in key order and that range's
// log is dropped, all in the same transaction. A range is merged every
// idemRanges commits, when each of its terminals has several new values,
// and those share a leaf page instead of taking one each. Nothing is ever
// only in memory: the log is part of the same fsynced commit.
//
// Reads see the log first, then the bucket:
//   - inside Update (the committer), from db.mem, the committer's mirror of
//     what the logs hold as committed, plus the transaction's own writes
//     (Tx.pending): a map lookup;
//   - inside View, from the log in the view's own snapshot, newest first
//     (a range's log holds about one commit's worth), so a view is exactly
//     consistent without locks, also in a read-only process.

// idemRanges is how many logs the idempotency values are spread over.
const idemRanges = 32

// idemMergeFloor: below this many logged values nothing is merged (at low
// load a merge would write as many pages as it saves).
const idemMergeFloor = 1024

// bktIdemLog holds the logs: range (1 byte) -> bucket: seq (u64) ->
// encoded IdemKey · idem value.
var bktIdemLog = []byte("idemlog")

// idemMem mirrors the committed logs for the committer goroutine (no lock:
// only the committer reads or writes it).
type idemMem struct {
	ranges [idemRanges]map[string][]byte
	n      int // values in all ranges
	next   int // the range the next merge starts looking at
}

func newIdemMem() *idemMem {
	m := &idemMem{}
	for i := range m.ranges {
		m.ranges[i] = make(map[string][]byte)
	}
	return m
}

// idemRange is the log of an encoded IdemKey: a hash of its terminal, so
// all values of one terminal (and one batch) share a log.
func idemRange(key []byte) int {
	h := fnv.New32a()
	_, _ = h.Write(key[:TerminalMax])
	return int(h.Sum32() % idemRanges)
}

func idemLogName(r int) []byte { return []byte{byte(r)} }

// idemLog returns the log of range r (nil in a file of schema 2 opened
// read-only, whose logs were never created: it has nothing logged).
func (tx *Tx) idemLog(r int) (*bolt.Bucket, error) {
	p := tx.btx.Bucket(bktIdemLog)
	if p == nil {
		if tx.btx.Writable() {
			return nil, fmt.Errorf("%w: missing bucket %s", ErrCorrupt, bktIdemLog)
		}
		return nil, nil
	}
	b := p.Bucket(idemLogName(r))
	if b == nil && tx.btx.Writable() {
		return nil, fmt.Errorf("%w: missing idempotency log %d", ErrCorrupt, r)
	}
	return b, nil
}

// idemRaw returns the stored idempotency value of an encoded key (nil if
// none): the newest logged one, else the bucket's.
func (tx *Tx) idemRaw(key []byte) ([]byte, error) {
	r := idemRange(key)
	if tx.btx.Writable() {
		if v, ok := tx.pending[string(key)]; ok {
			return v, nil
		}
		if v, ok := tx.db.mem.ranges[r][string(key)]; ok {
			return v, nil
		}
	} else {
		log, err := tx.idemLog(r)
		if err != nil {
			return nil, err
		}
		if log != nil {
			c := log.Cursor()
			for k, v := c.Last(); k != nil; k, v = c.Prev() {
				if len(v) < IdemKeySize {
					return nil, fmt.Errorf("%w: idempotency log %d entry %x", ErrCorruptValue, r, k)
				}
				if bytes.Equal(v[:IdemKeySize], key) {
					return v[IdemKeySize:], nil
				}
			}
		}
	}
	b, err := tx.bucket(bktIdem)
	if err != nil {
		return nil, err
	}
	return b.Get(key), nil
}

// logIdem appends rec (encoded key · value, kept until commit) to its
// range's log and to the transaction's own view of it.
func (tx *Tx) logIdem(rec []byte) error {
	key := rec[:IdemKeySize]
	r := idemRange(key)
	log, err := tx.idemLog(r)
	if err != nil {
		return err
	}
	if !tx.btx.Writable() {
		return bolt.ErrTxNotWritable
	}
	log.FillPercent = appendFill
	seq, err := log.NextSequence()
	if err != nil {
		return err
	}
	if err := log.Put(u64key(seq), rec); err != nil {
		return fmt.Errorf("store: put %s: %w", bktIdemLog, err)
	}
	if tx.pending == nil {
		tx.pending = make(map[string][]byte)
	}
	tx.pending[string(key)] = rec[IdemKeySize:]
	return nil
}

// idemOverlay returns the logged values of range r (encoded key -> value)
// as this transaction sees them.
func (tx *Tx) idemOverlay(r int) (map[string][]byte, error) {
	out := make(map[string][]byte)
	if tx.btx.Writable() {
		for k, v := range tx.db.mem.ranges[r] {
			out[k] = v
		}
		for k, v := range tx.pending {
			if idemRange([]byte(k)) == r {
				out[k] = v
			}
		}
		return out, nil
	}
	log, err := tx.idemLog(r)
	if err != nil || log == nil {
		return out, err
	}
	err = log.ForEach(func(k, v []byte) error {
		if len(v) < IdemKeySize {
			return fmt.Errorf("%w: idempotency log %d entry %x", ErrCorruptValue, r, k)
		}
		out[string(v[:IdemKeySize])] = v[IdemKeySize:]
		return nil
	})
	return out, err
}

// mergeIdem runs on the committer after the group's functions, in their
// transaction: it moves one range's logged values into the idem bucket
// and empties that log. It returns the range merged, or -1.
func (db *DB) mergeIdem(tx *Tx) (int, error) {
	m := db.mem
	floor := idemMergeFloor
	if db.opt.mergeFloor != 0 {
		floor = max(db.opt.mergeFloor, 0)
	}
	if m.n+len(tx.pending) < floor {
		return -1, nil
	}
	r := -1
	for i := range idemRanges {
		c := (m.next + i) % idemRanges
		if len(m.ranges[c]) > 0 {
			r = c
			break
		}
	}
	if r < 0 {
		return -1, nil // everything logged is this transaction's own
	}
	vals, err := tx.idemOverlay(r)
	if err != nil {
		return -1, err
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b, err := tx.bucket(bktIdem)
	if err != nil {
		return -1, err
	}
	for _, k := range keys {
		if err := b.Put([]byte(k), vals[k]); err != nil {
			return -1, fmt.Errorf("store: merging idempotency log %d: %w", r, err)
		}
	}
	p, err := tx.bucket(bktIdemLog)
	if err != nil {
		return -1, err
	}
	if err := p.DeleteBucket(idemLogName(r)); err != nil {
		return -1, fmt.Errorf("store: dropping idempotency log %d: %w", r, err)
	}
	if _, err := p.CreateBucket(idemLogName(r)); err != nil {
		return -1, fmt.Errorf("store: recreating idempotency log %d: %w", r, err)
	}
	return r, nil
}

// committedIdem updates the committer's mirror after tx committed: its own
// values join the logs' mirror, and the merged range (if any) is empty.
func (db *DB) committedIdem(tx *Tx, merged int) {
	m := db.mem
	for k, v := range tx.pending {
		rm := m.ranges[idemRange([]byte(k))]
		if _, ok := rm[k]; !ok {
			m.n++
		}
		rm[k] = v
	}
	if merged >= 0 {
		m.n -= len(m.ranges[merged])
		clear(m.ranges[merged])
		m.next = (merged + 1) % idemRanges
	}
}

// loadIdemMem fills the committer's mirror from the logs at open.
func (db *DB) loadIdemMem() error {
	m := newIdemMem()
	err := db.bolt.View(func(btx *bolt.Tx) error {
		tx := &Tx{btx: btx, db: db}
		for r := range idemRanges {
			vals, err := tx.idemOverlay(r)
			if err != nil {
				return err
			}
			for k, v := range vals {
				m.ranges[r][k] = bytes.Clone(v)
				m.n++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	db.mem = m
	return nil
}
