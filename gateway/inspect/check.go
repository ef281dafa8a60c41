package inspect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterr "go.etcd.io/bbolt/errors"

	"ecardgw/store"
)

// CheckResult describes a store file that passed the full check.
type CheckResult struct {
	Path       string
	Size       int64
	Schema     uint32 // the file's schema version; 0 if it never recorded one
	JournalLen uint64 // records ever journaled (also the last sequence number)
	Outbox     int    // records not yet delivered by the forwarder
	// OutboxOldest is the journal time of the oldest undelivered record.
	OutboxOldest time.Time
}

// Check opens the store read-only with bbolt's full consistency check
// (every page is read: about a second per GB) and reports what it holds.
// It fails with store.ErrLocked while a gateway runs on the file.
func Check(path string) (CheckResult, error) {
	res := CheckResult{Path: path}
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		return res, err
	}
	err = db.View(func(tx *store.Tx) error {
		res.JournalLen = tx.JournalLen()
		var err error
		res.Outbox, res.OutboxOldest, err = Outbox(tx)
		return err
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	if res.Schema, err = schemaVersion(path); err != nil {
		return res, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return res, err
	}
	res.Size = st.Size()
	return res, nil
}

// The store keeps its schema version under meta/schema (store/db.go,
// keySchema) and exposes only its own constant; Check reads the file's
// value directly. TestCheckReadsSchema fails if the store moves it.
var (
	bucketMeta = []byte("meta")
	keySchema  = []byte("schema")
)

func schemaVersion(path string) (uint32, error) {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, bolterr.ErrTimeout) {
		return 0, fmt.Errorf("%w: %s", store.ErrLocked, path)
	}
	if err != nil {
		return 0, err
	}
	defer bdb.Close()
	var v uint32
	err = bdb.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if b == nil {
			return store.ErrCorrupt
		}
		raw := b.Get(keySchema)
		switch len(raw) {
		case 0:
		case 4:
			v = binary.BigEndian.Uint32(raw)
		default:
			return store.ErrCorrupt
		}
		return nil
	})
	return v, err
}
