package store

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// # A new request's idempotency key, without a B+tree search
//
// Nearly every request is new, so its idempotency lookup misses: in the
// transaction's own values, in the committer's mirror of the logs, and
// finally in the keyed bucket, a search of the B+tree for every approval.
// A terminal's keys sort by batch, then STAN, and a terminal's next
// request carries a greater key than those before it (until its STAN
// wraps or a batch number goes back), so the committer keeps, per
// terminal, the greatest key the keyed bucket may hold (idemTop): a key
// above it is not there. The top is read once per terminal from the
// bucket (one cursor seek), raised by every merge into the bucket, and
// never lowered: a prune, or a merge whose transaction is rolled back,
// leaves it above the bucket's real top, which costs a search, never a
// wrong answer. Committer only (writable transactions run there, and at
// Open before the committer starts).

// idemTops maps a terminal's key prefix to its top; a nil top: none.
type idemTops map[[TerminalMax]byte][]byte

// keyedAbsent reports whether key is certainly not in the keyed bucket b.
func (db *DB) keyedAbsent(b *bolt.Bucket, key []byte) bool {
	if len(key) != IdemKeySize {
		return false
	}
	if db.idemTop == nil {
		db.idemTop = make(idemTops)
	}
	p := [TerminalMax]byte(key[:TerminalMax])
	top, ok := db.idemTop[p]
	if !ok {
		top = keyedTop(b, p)
		db.idemTop[p] = top
	}
	return top == nil || bytes.Compare(key, top) > 0
}

// keyedTop returns the greatest key of terminal prefix p in b, or nil.
func keyedTop(b *bolt.Bucket, p [TerminalMax]byte) []byte {
	upper := append(p[:], bytes.Repeat([]byte{0xFF}, IdemKeySize-TerminalMax)...)
	c := b.Cursor()
	k, _ := c.Seek(upper)
	if k == nil || !bytes.Equal(k, upper) {
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	}
	if k == nil || !bytes.HasPrefix(k, p[:]) {
		return nil
	}
	return bytes.Clone(k)
}

// keyedPut raises the top of key's terminal, if known, to key (a merge
// put key into the keyed bucket).
func (db *DB) keyedPut(key []byte) {
	if len(key) != IdemKeySize || db.idemTop == nil {
		return
	}
	p := [TerminalMax]byte(key[:TerminalMax])
	top, ok := db.idemTop[p]
	if ok && (top == nil || bytes.Compare(key, top) > 0) {
		db.idemTop[p] = bytes.Clone(key)
	}
}
