package inspect

import "errors"

// Sentinel errors; the errors returned wrap them so errors.Is works. None
// carries a card number, key or record.
var (
	// ErrBadBound means a --since/--until value is neither a journal
	// sequence number nor an RFC 3339 time (or a YYYY-MM-DD date).
	ErrBadBound = errors.New("inspect: bound must be a sequence number, an RFC 3339 time or a YYYY-MM-DD date")
	// ErrBadFormat means an export format other than csv, json or text.
	ErrBadFormat = errors.New("inspect: format must be csv, json or text")
	// ErrIncomplete means a journal export or a backup from a running
	// gateway ended before the gateway confirmed it was whole.
	ErrIncomplete = errors.New("inspect: transfer ended before the gateway confirmed it complete")
	// ErrAdmin means the admin listener refused a request.
	ErrAdmin = errors.New("inspect: admin request failed")
	// ErrBusy means the gateway is serving another backup (HTTP 429);
	// the errors returned wrap ErrAdmin too.
	ErrBusy = errors.New("inspect: another backup is running")
	// ErrExists means the backup file exists already (use force).
	ErrExists = errors.New("inspect: file exists")
	// ErrSameFile means a backup or restore names the live store itself.
	ErrSameFile = errors.New("inspect: file is the store itself")
)
