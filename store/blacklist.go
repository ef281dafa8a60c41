package store

import (
	"encoding/binary"
	"fmt"
	"time"
)

// The blacklist is a versioned log of card numbers added to or removed from
// the list (a reported loss and its cancellation). Terminals download it as
// deltas since the version they hold, so an entry is never rewritten: each
// change gets the next version.
//
//	blacklist: version (u32) -> action (1: 1 add, 0 remove) · time (i64 unix nanos) · card number
//
// The current version is the last key. The bucket is created on first use,
// so a store written before the blacklist existed opens unchanged.
var bktBlacklist = []byte("blacklist")

// BlacklistVersion returns the newest blacklist version (0: empty).
func (tx *Tx) BlacklistVersion() (uint32, error) {
	b := tx.btx.Bucket(bktBlacklist)
	if b == nil {
		return 0, nil
	}
	k, _ := b.Cursor().Last()
	if k == nil {
		return 0, nil
	}
	if len(k) != 4 {
		return 0, fmt.Errorf("%w: blacklist key", ErrCorruptValue)
	}
	return binary.BigEndian.Uint32(k), nil
}

// BlacklistAdd records that card is now on the list (add) or off it, and
// returns the new version.
func (tx *Tx) BlacklistAdd(card string, add bool, at time.Time) (uint32, error) {
	if card == "" || len(card) > 19 {
		return 0, ErrBadKey
	}
	b, err := tx.btx.CreateBucketIfNotExists(bktBlacklist)
	if err != nil {
		return 0, err
	}
	ver, err := tx.BlacklistVersion()
	if err != nil {
		return 0, err
	}
	ver++
	v := make([]byte, 0, 9+len(card))
	if add {
		v = append(v, 1)
	} else {
		v = append(v, 0)
	}
	v = binary.BigEndian.AppendUint64(v, uint64(at.UTC().UnixNano()))
	v = append(v, card...)
	k := binary.BigEndian.AppendUint32(nil, ver)
	if err := b.Put(k, v); err != nil {
		return 0, err
	}
	return ver, nil
}

// BlacklistSince calls fn for up to max entries with a version above from,
// oldest first, and reports whether more remain after them.
func (tx *Tx) BlacklistSince(from uint32, max int, fn func(ver uint32, card string, add bool) error) (bool, error) {
	b := tx.btx.Bucket(bktBlacklist)
	if b == nil {
		return false, nil
	}
	c := b.Cursor()
	seek := binary.BigEndian.AppendUint32(nil, from+1)
	n := 0
	for k, v := c.Seek(seek); k != nil; k, v = c.Next() {
		if n == max {
			return true, nil
		}
		if len(k) != 4 || len(v) < 10 || v[0] > 1 {
			return false, fmt.Errorf("%w: blacklist entry", ErrCorruptValue)
		}
		if err := fn(binary.BigEndian.Uint32(k), string(v[9:]), v[0] == 1); err != nil {
			return false, err
		}
		n++
	}
	return false, nil
}
