package store

import (
	"context"
	"time"
)

// ImportAccounts creates or updates accounts from an imported list (parse
// and validate it first: store/accountscsv). It is one transaction: if any
// row cannot be stored (a card number held by an account outside the list,
// say), nothing is imported.
//
// It is idempotent by account number. A new account is created with the
// row's balance. For an existing account only name, staff number, card
// number and serial and status are updated; the balance is never touched
// (the store is the ledger: an import must not overwrite money moved since
// the file was made). Importing the same list again changes nothing and
// reports 0 created, 0 updated. Cards may move between accounts of the
// same list (two accounts swapping cards is allowed).
func (db *DB) ImportAccounts(ctx context.Context, rows []Account) (created, updated int, err error) {
	now := time.Now().UTC()
	err = db.Update(ctx, func(tx *Tx) error {
		created, updated, err = tx.ImportAccounts(rows, now)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return created, updated, nil
}

// sameImported reports whether the imported fields already match.
func sameImported(a, r *Account) bool {
	return a.Name == r.Name && a.StaffNo == r.StaffNo && a.Status == r.Status &&
		a.CardNumber == r.CardNumber && a.CardSerial == r.CardSerial
}
