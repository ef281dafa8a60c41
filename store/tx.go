package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Tx is one function's view of a bbolt transaction: read-write inside
// Update, read-only inside View. It is valid only until the function
// returns.
type Tx struct {
	btx *bolt.Tx
	db  *DB
	buf []byte // spare capacity for encoding values (see keep)
	// pending holds the idempotency values this (committer) transaction
	// logged, by encoded key (see idemlog.go).
	pending map[string][]byte
	// acct is the account this (writable) transaction last read or stored,
	// while acctOK: an approval reads and writes its account several times
	// (debit, journal link) and each read would decode it again.
	acct   Account
	acctOK bool
	// acctDirty: acct was put and is not written yet (flushAccount).
	acctDirty bool
}

// Writable reports whether the transaction can write (inside Update).
func (tx *Tx) Writable() bool { return tx.btx.Writable() }

// bucket returns a bucket that Open created. A missing bucket means the
// file was altered behind the store's back.
func (tx *Tx) bucket(name []byte) (*bolt.Bucket, error) {
	if tx.acctDirty && (bytes.Equal(name, bktAccounts) || bytes.Equal(name, bktCards) || bytes.Equal(name, bktNames)) {
		if err := tx.flushAccount(); err != nil {
			return nil, err
		}
	}
	b := tx.btx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("%w: missing bucket %s", ErrCorrupt, name)
	}
	return b, nil
}

// scratch returns tx.buf emptied, for building one value.
func (tx *Tx) scratch() *enc {
	if cap(tx.buf) < 512 {
		tx.buf = make([]byte, 0, 16<<10)
	}
	return &enc{b: tx.buf[:0]}
}

// keep retains the unused capacity after a value for the next one. bbolt
// keeps a reference to a Put value until commit, so a value's bytes must
// not be reused while the transaction is open: keep hands back only the
// capacity beyond it.
func (tx *Tx) keep(e *enc) {
	tx.buf = e.b[len(e.b):]
}

// Meta returns the small setting stored under key, or nil. The slice is
// a copy.
func (tx *Tx) Meta(key string) ([]byte, error) {
	b, err := tx.bucket(bktSettings)
	if err != nil {
		return nil, err
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

// PutMeta stores a copy of a small setting (bbolt would otherwise hold
// the caller's slice until commit). A nil v deletes it.
func (tx *Tx) PutMeta(key string, v []byte) error {
	if key == "" || len(key) > 255 {
		return ErrBadKey
	}
	b, err := tx.bucket(bktSettings)
	if err != nil {
		return err
	}
	if v == nil {
		return b.Delete([]byte(key))
	}
	return b.Put([]byte(key), append([]byte(nil), v...))
}

var keyRRN = []byte("rrn")

// NextRRN returns the next value of the counter behind field 37
// (retrieval reference number): 1, 2, 3... never reused, survives
// restarts. Formatting it into 12 characters is the caller's business.
func (tx *Tx) NextRRN() (uint64, error) {
	b, err := tx.bucket(bktMeta)
	if err != nil {
		return 0, err
	}
	var n uint64
	if v := b.Get(keyRRN); v != nil {
		if len(v) != 8 {
			return 0, ErrCorruptValue
		}
		n = binary.BigEndian.Uint64(v)
	}
	n++
	return n, b.Put(keyRRN, u64key(n))
}
