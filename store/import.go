package store

import (
	"context"
	"fmt"
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
		created, updated = 0, 0
		cards, err := tx.bucket(bktCards)
		if err != nil {
			return err
		}
		// Pass 1: free the old card numbers of accounts that change card, so
		// that a card moving within the list is not refused as in use.
		for i := range rows {
			old, ok, err := tx.Account(rows[i].No)
			if err != nil {
				return err
			}
			if ok && old.CardNumber != "" && old.CardNumber != rows[i].CardNumber {
				if err := deleteIfPoints(cards, []byte(old.CardNumber), u64key(old.No)); err != nil {
					return err
				}
			}
		}
		for i := range rows {
			r := &rows[i]
			a, ok, err := tx.Account(r.No)
			if err != nil {
				return err
			}
			if !ok {
				a = Account{No: r.No, BalanceFen: r.BalanceFen}
			} else if sameImported(&a, r) {
				continue
			}
			a.Name, a.StaffNo, a.Status = r.Name, r.StaffNo, r.Status
			a.CardNumber, a.CardSerial = r.CardNumber, r.CardSerial
			a.Updated = now
			if err := tx.PutAccount(&a); err != nil {
				return fmt.Errorf("import account %d: %w", r.No, err)
			}
			if ok {
				updated++
			} else {
				created++
			}
		}
		return nil
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
