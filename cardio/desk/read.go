package desk

import (
	"errors"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/campuscard"
)

// CounterKeyIndex is the load key index used to read the online counter.
const CounterKeyIndex = 0x01

// CardData is what a card data sync records.
type CardData struct {
	Info    campuscard.AppInfo // serial number, validity; Info.CardNumber() is field 2
	Holder  campuscard.Holder  // account number, card type, name
	UID     []byte             // nil when the reader cannot give it
	Balance int64              // small wallet, fen
	Counter uint16             // small-wallet online counter
	// CounterKnown is false when the card refused INITIALIZE FOR LOAD
	// (for instance no load key at CounterKeyIndex); Counter is then 0.
	CounterKnown bool
}

// ReadCard reads a campus card. The online counter is only given by
// INITIALIZE FOR LOAD, so ReadCard sends one for amount 0 and never the
// CREDIT that would complete it: the card's state does not change.
func ReadCard(t apdu.Transmitter) (CardData, error) {
	var d CardData
	c := campuscard.New(t)
	// The UID comes from the reader, before SELECT as the PC/SC part 3
	// pseudo-APDU expects; a reader that cannot answer it is not fatal.
	uid, err := c.UID()
	switch {
	case err == nil:
		d.UID = uid
	case errors.Is(err, apdu.ErrStatus):
	default:
		return d, err
	}
	if err := c.Select(); err != nil {
		if errors.Is(err, apdu.ErrFileNotFound) {
			return d, ErrNotCampusCard
		}
		return d, err
	}
	if d.Info, err = c.ReadAppInfo(); err != nil {
		return d, err
	}
	if d.Holder, err = c.ReadHolder(); err != nil {
		return d, err
	}
	if d.Balance, err = c.Balance(); err != nil {
		return d, err
	}
	var zero [6]byte
	li, err := c.InitializeForLoad(CounterKeyIndex, 0, zero)
	switch {
	case err == nil:
		d.Counter, d.CounterKnown = li.Counter, true
	case errors.Is(err, apdu.ErrStatus):
	default:
		return d, err
	}
	return d, nil
}
