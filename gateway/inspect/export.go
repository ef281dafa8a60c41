package inspect

import (
	"errors"
	"slices"

	"ecardgw/store"
)

// pageSize is how many records one read transaction collects. Small
// enough that the transaction is short; large enough that a big export
// is not dominated by transaction set-up.
const pageSize = 512

var errPageFull = errors.New("page full")

// Export writes the records of g to w, reading the journal in pages of
// short read transactions. It stops at the journal's length when it
// started, so an export is a fixed picture even while terminals keep
// paying. It returns the number of records written; the caller flushes w.
func Export(db *store.DB, g Range, w *Writer) (int, error) {
	var end uint64
	if err := db.View(func(tx *store.Tx) error { end = tx.JournalLen(); return nil }); err != nil {
		return 0, err
	}
	if g.Until.Seq != 0 && g.Until.Seq-1 < end {
		end = g.Until.Seq - 1
	}
	after, n := g.after(), 0
	page := make([]store.Record, 0, pageSize)
	for after < end {
		page = page[:0]
		err := db.View(func(tx *store.Tx) error {
			page = page[:0] // View may not re-run fn, but stay correct if it does
			return tx.JournalSince(after, func(r *store.Record) error {
				if r.Seq > end || len(page) == pageSize {
					return errPageFull
				}
				page = append(page, *r)
				return nil
			})
		})
		if err != nil && !errors.Is(err, errPageFull) {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if g.Contains(&page[i]) {
				if err := w.Write(&page[i]); err != nil {
					return n, err
				}
				n++
			}
		}
		after = page[len(page)-1].Seq
	}
	return n, nil
}

// Tail returns the last n journal records, oldest first (n is capped at
// store.MaxLastJournal).
func Tail(db *store.DB, n int) ([]store.Record, error) {
	var out []store.Record
	err := db.View(func(tx *store.Tx) error {
		var err error
		out, err = tx.LastJournal(n, 0)
		return err
	})
	slices.Reverse(out)
	return out, err
}
