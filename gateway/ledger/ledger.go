// Package ledger holds the rules every change of a campus account's
// balance obeys, wherever the request came from: a POS or kiosk (package
// txn), the service API (package service), a local reader. Callers find
// the account in their store transaction, call one of the functions
// below, and write the account back only when it returns nil; a refusal
// leaves the account untouched.
//
// The rules:
//
//   - Spend (purchase, fee, small-wallet load): the account must be active
//     (lost: ErrLost, frozen or cancelled: ErrFrozen), the balance must
//     cover the amount (ErrInsufficient), and a purchase obeys the daily
//     limit (ErrOverLimit).
//   - SpendOffline (an offline advice: the POS already sold): no status or
//     balance check — the sale happened — but the balance may not pass the
//     floor of −store.MaxBalanceFen; a sale the balance does not cover is
//     reported as an exception.
//   - Receive (a top-up): refused for a frozen or cancelled account
//     (ErrFrozen); a lost card's account still receives, the money is the
//     person's.
//   - GiveBack (a refund, a reversal of a debit): no status check, the
//     money was the person's.
//   - TakeBack (a reversal of a refund or a top-up): the balance may go
//     below zero (reported as an exception), never past the floor.
//
// Every sum is checked: no balance ever passes ±store.MaxBalanceFen
// (ErrOverflow), so nothing can wrap around int64. Amounts must be
// positive (ErrBadAmount).
package ledger

import (
	"errors"
	"time"

	"ecardgw/store"
)

// Refusals. Code maps each to its response code.
var (
	ErrBadAmount    = errors.New("ledger: amount must be from 1 fen up")
	ErrLost         = errors.New("ledger: the card was reported lost")
	ErrFrozen       = errors.New("ledger: the account is frozen or cancelled")
	ErrInsufficient = errors.New("ledger: the balance does not cover the amount")
	ErrOverLimit    = errors.New("ledger: over the daily limit")
	ErrOverflow     = errors.New("ledger: the balance would pass its limit")
)

// Code is the response code (field 39, and the journal's) of a refusal:
// 13, 41, 62, 51, 61; "" for nil; 96 for any other error.
func Code(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBadAmount):
		return "13"
	case errors.Is(err, ErrLost):
		return "41"
	case errors.Is(err, ErrFrozen):
		return "62"
	case errors.Is(err, ErrInsufficient):
		return "51"
	case errors.Is(err, ErrOverLimit), errors.Is(err, ErrOverflow):
		return "61"
	}
	return "96"
}

// Usable reports whether an account may spend: nil, ErrLost or ErrFrozen.
func Usable(a *store.Account) error {
	switch a.Status {
	case store.StatusActive:
		return nil
	case store.StatusLost:
		return ErrLost
	}
	return ErrFrozen
}

// Spend debits amount from an active account whose balance covers it.
// dailyLimit > 0 also holds the account's spending of the day (UTC) to it;
// 0 is no daily limit (a fee, a load). The day's spending is counted
// either way.
func Spend(a *store.Account, amount, dailyLimit int64, now time.Time) error {
	if amount <= 0 {
		return ErrBadAmount
	}
	if err := Usable(a); err != nil {
		return err
	}
	if a.BalanceFen < amount {
		return ErrInsufficient
	}
	day := now.UTC().Format("20060102")
	dayFen := a.DayFen
	if a.Day != day {
		dayFen = 0
	}
	if dailyLimit > 0 && dayFen > dailyLimit-amount {
		return ErrOverLimit
	}
	a.BalanceFen -= amount
	a.Day, a.DayFen = day, add(dayFen, amount)
	a.Updated = now
	return nil
}

// SpendOffline debits a sale the terminal already made offline: whatever
// the account's status and balance, down to the floor. exception reports
// a sale the balance did not cover (for reconciliation).
func SpendOffline(a *store.Account, amount int64, now time.Time) (exception bool, err error) {
	if amount <= 0 {
		return false, ErrBadAmount
	}
	if a.BalanceFen-amount < -store.MaxBalanceFen {
		return false, ErrOverflow
	}
	exception = a.BalanceFen < amount
	day := now.UTC().Format("20060102")
	if a.Day != day {
		a.Day, a.DayFen = day, 0
	}
	a.BalanceFen -= amount
	a.DayFen = add(a.DayFen, amount)
	a.Updated = now
	return exception, nil
}

// Receive credits a top-up: refused for a frozen or cancelled account, and
// where the balance would pass store.MaxBalanceFen.
func Receive(a *store.Account, amount int64, now time.Time) error {
	if amount <= 0 {
		return ErrBadAmount
	}
	if a.Status == store.StatusFrozen || a.Status == store.StatusCancelled {
		return ErrFrozen
	}
	return GiveBack(a, amount, now)
}

// GiveBack credits money that was the person's (a refund, a reversed
// debit), whatever the account's status; refused only where the balance
// would pass store.MaxBalanceFen.
func GiveBack(a *store.Account, amount int64, now time.Time) error {
	if amount <= 0 {
		return ErrBadAmount
	}
	if a.BalanceFen > store.MaxBalanceFen-amount {
		return ErrOverflow
	}
	a.BalanceFen += amount
	a.Updated = now
	return nil
}

// TakeBack debits what a reversal undoes (a refund, a top-up): it may
// leave the balance below zero (negative reports it, an exception for
// reconciliation), never past −store.MaxBalanceFen.
func TakeBack(a *store.Account, amount int64, now time.Time) (negative bool, err error) {
	if amount <= 0 {
		return false, ErrBadAmount
	}
	if a.BalanceFen-amount < -store.MaxBalanceFen {
		return false, ErrOverflow
	}
	a.BalanceFen -= amount
	a.Updated = now
	return a.BalanceFen < 0, nil
}

// add is a day's spending sum, held at the int64 limit rather than
// wrapping (it only ever grows within a day, by at most store.MaxBalanceFen
// per sale).
func add(a, b int64) int64 {
	if a > 0 && b > 0 && a > (1<<63-1)-b {
		return 1<<63 - 1
	}
	return a + b
}
