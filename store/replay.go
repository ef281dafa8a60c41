package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"
)

// The campus-code replay record: (account, generated-at, counter) of every
// accepted code, kept until it expires (at least validity + skew), with an
// index by expiry so purging does not scan the record.

const (
	replayKeySize = 8 + 4 + 2
	replayV1      = 1
	// purgeLimit bounds one PurgeReplay call so that it never holds the
	// single writer for long; call it again while it returns purgeLimit.
	purgeLimit = 10000
)

func replayKey(account uint64, genAt uint32, counter uint16) [replayKeySize]byte {
	var k [replayKeySize]byte
	binary.BigEndian.PutUint64(k[0:], account)
	binary.BigEndian.PutUint32(k[8:], genAt)
	binary.BigEndian.PutUint16(k[12:], counter)
	return k
}

// sortableTime orders times (including before 1970) as bytes.
func sortableTime(t time.Time) uint64 { return uint64(t.UnixNano()) ^ (1 << 63) }

// ReplaySeen reports whether the code (account, genAt, counter) was
// accepted before. An expired entry not yet purged still counts: the
// freshness check rejects such old codes anyway.
func (tx *Tx) ReplaySeen(account uint64, genAt uint32, counter uint16) (bool, error) {
	b, err := tx.bucket(bktReplay)
	if err != nil {
		return false, err
	}
	k := replayKey(account, genAt, counter)
	return b.Get(k[:]) != nil, nil
}

// PutReplay records an accepted code, to be kept until expires.
func (tx *Tx) PutReplay(account uint64, genAt uint32, counter uint16, expires time.Time) error {
	rb, err := tx.bucket(bktReplay)
	if err != nil {
		return err
	}
	xb, err := tx.bucket(bktReplayExp)
	if err != nil {
		return err
	}
	k := replayKey(account, genAt, counter)
	if old := rb.Get(k[:]); old != nil {
		// A refreshed entry: drop its old expiry index entry.
		if t, err := decodeReplay(old); err == nil {
			if err := xb.Delete(expKey(t, k)); err != nil {
				return err
			}
		}
	}
	v := make([]byte, 0, 9)
	v = append(v, replayV1)
	v = binary.BigEndian.AppendUint64(v, uint64(expires.UnixNano()))
	if err := rb.Put(k[:], v); err != nil {
		return err
	}
	return xb.Put(expKey(expires, k), nil)
}

func expKey(t time.Time, k [replayKeySize]byte) []byte {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, 8+replayKeySize), sortableTime(t))
	return append(out, k[:]...)
}

// decodeReplay returns the expiry stored in a replay value.
func decodeReplay(b []byte) (time.Time, error) {
	if len(b) != 9 || b[0] != replayV1 {
		return time.Time{}, ErrCorruptValue
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[1:]))).UTC(), nil
}

// PurgeReplay deletes replay entries that expired before the given time,
// at most 10000 per call (call again while it returns 10000). It goes
// through the group commit like any other write.
func (db *DB) PurgeReplay(before time.Time) (int, error) {
	limit := sortableTime(before)
	var n int
	err := db.Update(context.Background(), func(tx *Tx) error {
		n = 0
		rb, err := tx.bucket(bktReplay)
		if err != nil {
			return err
		}
		xb, err := tx.bucket(bktReplayExp)
		if err != nil {
			return err
		}
		var lim [8]byte
		binary.BigEndian.PutUint64(lim[:], limit)
		// Collect first: deleting under a bbolt cursor can skip keys.
		var keys [][]byte
		c := xb.Cursor()
		for k, _ := c.First(); k != nil && len(keys) < purgeLimit; k, _ = c.Next() {
			if len(k) != 8+replayKeySize {
				return ErrCorruptValue
			}
			if bytes.Compare(k[:8], lim[:]) >= 0 {
				break
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := rb.Delete(k[8:]); err != nil {
				return err
			}
			if err := xb.Delete(k); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
