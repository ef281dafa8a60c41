package iso8583

import (
	"errors"
	"strconv"
)

// Sentinel errors, wrapped in *FieldError. All but ErrAbsent, ErrType and
// ErrSubfield are format errors a terminal can cause (answer 30).
var (
	// ErrBitOne: bitmap bit 1 (a secondary bitmap) is set; the profile has
	// only the primary bitmap.
	ErrBitOne = errors.New("secondary bitmap not allowed")
	// ErrNotInProfile: a field the campus profile does not define.
	ErrNotInProfile = errors.New("field not in profile")
	// ErrTooLong: a length above the field's maximum, or a value too big
	// for its digits.
	ErrTooLong = errors.New("field too long")
	// ErrNotBCD: a nibble above 9, or a pad nibble that is not 0.
	ErrNotBCD = errors.New("not BCD")
	// ErrShort: the data ends inside the MTI, bitmap, a length prefix or a
	// field value (or a value is shorter than its fixed length).
	ErrShort = errors.New("data too short")
	// ErrTrailing: bytes remain after the last field the bitmap announces.
	ErrTrailing = errors.New("trailing bytes")
	// ErrBadCharset: an an/ans byte outside printable ASCII 0x20-0x7E, or a
	// non-digit where digits are required.
	ErrBadCharset = errors.New("bad character")
	// ErrAbsent: the field asked for is not in the message.
	ErrAbsent = errors.New("field absent")
	// ErrType: the operation does not fit the field's type (Uint of an
	// ans field, for example): a programming error, not a terminal's.
	ErrType = errors.New("wrong field type for operation")
	// ErrSubfield: field 60 or 61 has a digit count the subfield layout
	// does not allow.
	ErrSubfield = errors.New("bad subfield layout")
)

// FieldError locates a problem. Field 0 is the MTI and field 1 the bitmap.
// Offset is the byte offset where the field (its length prefix, if any)
// starts, counted from the start of the buffer given to Decode or
// DecodeFrame; for setters it is 0. It never carries the value.
type FieldError struct {
	Field  int
	Offset int
	Err    error
}

func (e *FieldError) Error() string {
	return "iso8583: field " + strconv.Itoa(e.Field) + " at offset " +
		strconv.Itoa(e.Offset) + ": " + e.Err.Error()
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(f, off int, err error) error {
	return &FieldError{Field: f, Offset: off, Err: err}
}
