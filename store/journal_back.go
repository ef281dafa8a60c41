package store

import (
	"encoding/binary"
	"fmt"
)

// JournalBackward calls fn for the records with Seq < beforeSeq (every
// record when beforeSeq is 0), newest first, until fn returns false or an
// error. The *Record is reused between calls.
func (tx *Tx) JournalBackward(beforeSeq uint64, fn func(*Record) (bool, error)) error {
	j, err := tx.bucket(bktJournal)
	if err != nil {
		return err
	}
	c := j.Cursor()
	var k, v []byte
	if beforeSeq == 0 {
		k, v = c.Last()
	} else if k, _ = c.Seek(u64key(beforeSeq)); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	var r Record
	for ; k != nil; k, v = c.Prev() {
		if err := decodeRecord(v, &r); err != nil {
			return fmt.Errorf("journal %d: %w", binary.BigEndian.Uint64(k), err)
		}
		goOn, err := fn(&r)
		if err != nil || !goOn {
			return err
		}
	}
	return nil
}
