package store

import "context"

// SetMaxSize changes the file size cap of Options.MaxSize on an open store
// (0: no limit). With a cap, a commit that would grow the file fails as on
// a full disk; raising or removing the cap is how tests and drills make
// "space return" without restarting the gateway, which must recover by
// itself (rules.md, disk full).
//
// bbolt reads its cap only while allocating pages for a write transaction,
// and only the committer runs write transactions, so the cap is changed
// from inside one. The change takes effect even if that transaction's own
// commit then fails.
func (db *DB) SetMaxSize(n int) error {
	if n < 0 {
		n = 0
	}
	return db.Update(context.Background(), func(tx *Tx) error {
		tx.btx.DB().MaxSize = n
		return nil
	})
}
