package accountscsv

import (
	"errors"
	"fmt"
	"strings"
)

// Reasons a row is refused. A *CSVError wraps one per bad row, so
// errors.Is(err, ErrDuplicate) tells whether any row was a duplicate.
var (
	ErrHeader       = errors.New("header must be exactly: " + Header)
	ErrSyntax       = errors.New("not valid CSV")
	ErrFieldCount   = errors.New("wrong number of columns")
	ErrAccount      = errors.New("must be a positive integer of at most 16 digits")
	ErrName         = errors.New("must be non-empty UTF-8 of at most 30 bytes without control characters")
	ErrCardNumber   = errors.New("must be 12 digits")
	ErrCardSerial   = errors.New("must be 20 digits")
	ErrCardMismatch = errors.New("must equal the last 12 digits of card_serial")
	ErrBalance      = errors.New("must be an integer number of fen, 0 or more, of at most twelve digits")
	ErrStatus       = errors.New("must be one of active, frozen, lost, cancelled")
	ErrStaffNo      = errors.New("must be printable ASCII of at most 16 bytes")
	ErrDuplicate    = errors.New("duplicate within the file")
	ErrTooManyRows  = errors.New("too many rows")
)

// RowError is one refused cell (or row, when Column is empty). It never
// holds the cell's value.
type RowError struct {
	Line   int
	Column string
	Err    error
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %s %v", e.Line, e.Column, e.Err)
}

// CSVError lists every bad row of a file.
type CSVError struct {
	Rows []RowError
}

// maxListed bounds the message; Rows keeps them all.
const maxListed = 20

func (e *CSVError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "accounts file: %d error(s)", len(e.Rows))
	for i, r := range e.Rows {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(e.Rows)-maxListed)
			break
		}
		b.WriteString("; ")
		b.WriteString(r.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is access to every row's reason.
func (e *CSVError) Unwrap() []error {
	out := make([]error, len(e.Rows))
	for i, r := range e.Rows {
		out[i] = r.Err
	}
	return out
}
