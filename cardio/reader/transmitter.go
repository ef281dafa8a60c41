package reader

import (
	"errors"
	"fmt"

	"github.com/ebfe/scard"

	"ecardgw/cardio/apdu"
)

// Transmitter is a connected card as an apdu.Transmitter.
type Transmitter struct {
	card *scard.Card
}

var _ apdu.Transmitter = (*Transmitter)(nil)

// NewTransmitter wraps a card connected through ebfe/scard.
func NewTransmitter(c *scard.Card) *Transmitter { return &Transmitter{card: c} }

// Transmit sends one command APDU. Errors that mean the card (or the
// reader, or pcscd) is no longer reachable wrap apdu.ErrCardRemoved: for a
// contactless card a communication failure is almost always the card
// leaving the field.
func (t *Transmitter) Transmit(cmd []byte) ([]byte, error) {
	r, err := t.card.Transmit(cmd)
	if err != nil {
		return nil, mapErr(err)
	}
	return r, nil
}

var goneErrs = []scard.Error{
	scard.ErrRemovedCard, scard.ErrResetCard, scard.ErrNoSmartcard,
	scard.ErrUnpoweredCard, scard.ErrUnresponsiveCard,
	scard.ErrNotTransacted, scard.ErrCommError, scard.ErrCommDataLost,
	scard.ErrReaderUnavailable, scard.ErrUnknownReader,
	scard.ErrNoService, scard.ErrServiceStopped, scard.ErrInvalidHandle,
}

func mapErr(err error) error {
	var se scard.Error
	if errors.As(err, &se) {
		for _, g := range goneErrs {
			if se == g {
				return fmt.Errorf("%w: %w", apdu.ErrCardRemoved, err)
			}
		}
	}
	return fmt.Errorf("reader: transmit: %w", err)
}

// serviceLost reports errors after which the PC/SC context is useless and
// must be established again (pcscd stopped or restarted).
func serviceLost(err error) bool {
	var se scard.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se {
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrInvalidHandle,
		scard.ErrCommError, scard.ErrCommDataLost, scard.ErrSystemCancelled:
		return true
	}
	return false
}
