package txn

import "ecardgw/store"

// MovesMoney reports whether a journal record is an approved movement of
// the account's money (what a person's history lists). The kiosk's recent
// transactions and the service API's history use the same rule, so that
// both show the same records.
func MovesMoney(r *store.Record) bool { return movesMoney(r) }
