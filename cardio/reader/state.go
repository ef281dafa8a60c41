package reader

import "github.com/ebfe/scard"

// ReaderState is what the manager knows about one reader.
type ReaderState int

const (
	// StateAbsent: the reader is not (or no longer) connected.
	StateAbsent ReaderState = iota
	// StateEmpty: the reader is there, no card.
	StateEmpty
	// StatePresent: a card is in the field.
	StatePresent
	// StateError: the reader or pcscd cannot say (mute card, service
	// lost); the manager keeps retrying.
	StateError
)

func (s ReaderState) String() string {
	switch s {
	case StateAbsent:
		return "absent"
	case StateEmpty:
		return "empty"
	case StatePresent:
		return "present"
	case StateError:
		return "error"
	}
	return "unknown"
}

// fromFlags maps pcsc-lite's event state of one reader.
func fromFlags(f scard.StateFlag) ReaderState {
	switch {
	case f&(scard.StateUnknown|scard.StateUnavailable|scard.StateIgnore) != 0:
		return StateAbsent
	case f&scard.StateMute != 0:
		// A card that does not answer its reset: present physically but
		// unusable; the operator should re-present it.
		return StateError
	case f&scard.StatePresent != 0:
		return StatePresent
	case f&scard.StateEmpty != 0:
		return StateEmpty
	}
	return StateError
}
