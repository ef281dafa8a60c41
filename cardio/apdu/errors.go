package apdu

import (
	"errors"
	"fmt"
)

var (
	// ErrShortResponse: a response APDU shorter than its two status bytes.
	ErrShortResponse = errors.New("apdu: response shorter than 2 bytes")
	// ErrBadStatus: SW1 outside the 6x and 9x classes ISO 7816-4 allows.
	ErrBadStatus = errors.New("apdu: malformed status word")
	// ErrTooLong: the response carries more data than the command asked for.
	ErrTooLong = errors.New("apdu: response data longer than expected")
	// ErrBadCommand: a command that cannot be encoded as a short APDU.
	ErrBadCommand = errors.New("apdu: command not encodable as a short APDU")
	// ErrChain: a 61xx/6Cxx chain that does not end.
	ErrChain = errors.New("apdu: response chain too long")
	// ErrCardRemoved is wrapped by transmitters when the card left the
	// field (or was reset) during an exchange: callers that were part way
	// through a load must treat the operation as incomplete.
	ErrCardRemoved = errors.New("apdu: card removed")
	// ErrStatus is wrapped by every *StatusError.
	ErrStatus = errors.New("apdu: card returned an error status")
)

// Status words the campus card specification names.
const (
	SWOK                uint16 = 0x9000
	SWWrongLength       uint16 = 0x6700
	SWConditions        uint16 = 0x6985
	SWWrongData         uint16 = 0x6A80
	SWFileNotFound      uint16 = 0x6A82
	SWRecordNotFound    uint16 = 0x6A83
	SWWrongP1P2         uint16 = 0x6B00
	SWINSNotSupported   uint16 = 0x6D00
	SWCLANotSupported   uint16 = 0x6E00
	SWMACInvalid        uint16 = 0x9302
	SWInsufficientFunds uint16 = 0x9401
	SWKeyNotFound       uint16 = 0x9403
	SWSecurityStatus    uint16 = 0x6982
)

// Sentinels for errors.Is on the status words callers branch on; a
// *StatusError matches any *StatusError with the same SW.
var (
	ErrMACInvalid        = &StatusError{SW: SWMACInvalid}
	ErrInsufficientFunds = &StatusError{SW: SWInsufficientFunds}
	ErrKeyNotFound       = &StatusError{SW: SWKeyNotFound}
	ErrFileNotFound      = &StatusError{SW: SWFileNotFound}
	ErrRecordNotFound    = &StatusError{SW: SWRecordNotFound}
	ErrConditions        = &StatusError{SW: SWConditions}
)

var swNames = map[uint16]string{
	SWWrongLength:       "wrong length",
	SWConditions:        "conditions of use not satisfied",
	SWWrongData:         "incorrect data",
	SWFileNotFound:      "file not found",
	SWRecordNotFound:    "record not found",
	SWWrongP1P2:         "wrong P1 P2",
	SWINSNotSupported:   "instruction not supported",
	SWCLANotSupported:   "class not supported",
	SWMACInvalid:        "MAC invalid",
	SWInsufficientFunds: "insufficient balance",
	SWKeyNotFound:       "key not found",
	SWSecurityStatus:    "security status not satisfied",
}

// StatusError is a card answer with a status word other than 9000. It
// carries only the status word: response data may hold card data.
type StatusError struct {
	SW uint16
}

func (e *StatusError) Error() string {
	if n, ok := swNames[e.SW]; ok {
		return fmt.Sprintf("apdu: status %04X (%s)", e.SW, n)
	}
	return fmt.Sprintf("apdu: status %04X", e.SW)
}

// Is makes errors.Is(err, ErrMACInvalid) and errors.Is(err, ErrStatus)
// work.
func (e *StatusError) Is(target error) bool {
	if target == ErrStatus {
		return true
	}
	t, ok := target.(*StatusError)
	return ok && t.SW == e.SW
}

// SW returns the status word of a *StatusError in err's chain, or 0.
func SW(err error) uint16 {
	var se *StatusError
	if errors.As(err, &se) {
		return se.SW
	}
	return 0
}
