package store

import (
	"encoding/binary"
	"fmt"
)

// Stand-in exposure (connected mode): per account, the fen approved by the
// gateway while the centre did not answer and not yet confirmed by the
// centre. The bucket is created on first use.
//
//	standin: account (u64) -> pending fen (i64)
var bktStandIn = []byte("standin")

// StandInPending returns the account's unconfirmed stand-in amount.
func (tx *Tx) StandInPending(account uint64) (int64, error) {
	b := tx.btx.Bucket(bktStandIn)
	if b == nil {
		return 0, nil
	}
	v := b.Get(u64key(account))
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: stand-in entry", ErrCorruptValue)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// AddStandInPending adds delta (negative when the centre confirms) to the
// account's pending amount and returns the new value; zero removes it.
func (tx *Tx) AddStandInPending(account uint64, delta int64) (int64, error) {
	cur, err := tx.StandInPending(account)
	if err != nil {
		return 0, err
	}
	b, err := tx.btx.CreateBucketIfNotExists(bktStandIn)
	if err != nil {
		return 0, err
	}
	n := cur + delta
	if n <= 0 {
		return 0, b.Delete(u64key(account))
	}
	return n, b.Put(u64key(account), binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// StandInTotal sums every account's pending amount (the exposure gauge).
func (tx *Tx) StandInTotal() (int64, error) {
	b := tx.btx.Bucket(bktStandIn)
	if b == nil {
		return 0, nil
	}
	var sum int64
	err := b.ForEach(func(_, v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("%w: stand-in entry", ErrCorruptValue)
		}
		sum += int64(binary.BigEndian.Uint64(v))
		return nil
	})
	return sum, err
}
