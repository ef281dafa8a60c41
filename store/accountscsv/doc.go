// Package accountscsv reads and writes the accounts import file:
//
//	account,name,card_number,card_serial,balance_fen,status,staff_no
//
// Parse validates every row and reports every bad one at once (line and
// column, never the card number) so an operator can fix the file in one
// go; the result is handed to store.DB.ImportAccounts, which imports all
// rows or none.
//
// It is not an import policy: what an import does to an existing account
// (the balance is only set on creation) is the store's business.
package accountscsv
