package campuscard

import (
	"encoding/binary"
	"fmt"
	"math"

	"ecardgw/cardio/apdu"
)

// LoadInit is the card's answer to INITIALIZE FOR LOAD: what the terminal
// sends to the gateway in field 55 (DF04, DF05, DF08, DF09, DF06, DF07).
type LoadInit struct {
	Balance    int64 // fen, before the load
	Counter    uint16
	KeyVersion byte
	AlgID      byte
	Random     [4]byte
	MAC1       [4]byte
}

const loadInitLen = 16

// InitializeForLoad starts a load of amount fen with load key keyIndex.
// The card does not change until CreditForLoad succeeds.
func (c *Card) InitializeForLoad(keyIndex byte, amount int64, termID [6]byte) (LoadInit, error) {
	var li LoadInit
	if amount < 0 || amount > math.MaxUint32 {
		return li, ErrAmount
	}
	data := make([]byte, 0, 11)
	data = append(data, keyIndex)
	data = binary.BigEndian.AppendUint32(data, uint32(amount))
	data = append(data, termID[:]...)
	b, err := apdu.Exchange(c.t, apdu.Command{CLA: 0x80, INS: 0x50, P2: 0x02, Data: data, Ne: loadInitLen})
	if err != nil {
		return li, fmt.Errorf("campuscard: initialize for load: %w", err)
	}
	if len(b) != loadInitLen {
		return li, fmt.Errorf("%w: initialize for load %d bytes", ErrLength, len(b))
	}
	li.Balance = int64(binary.BigEndian.Uint32(b[0:4]))
	li.Counter = binary.BigEndian.Uint16(b[4:6])
	li.KeyVersion, li.AlgID = b[6], b[7]
	copy(li.Random[:], b[8:12])
	copy(li.MAC1[:], b[12:16])
	return li, nil
}

// CreditForLoad completes the load begun by InitializeForLoad with the
// date and time (BCD YYYYMMDDhhmmss, as sent to the gateway in DF0A) and
// the gateway's MAC2, and returns the card's TAC. Every error wraps
// ErrLoadIncomplete; a card pulled away also wraps apdu.ErrCardRemoved,
// and a refused MAC2 is apdu.ErrMACInvalid.
func (c *Card) CreditForLoad(dateTime [7]byte, mac2 [4]byte) ([4]byte, error) {
	var tac [4]byte
	data := make([]byte, 0, 11)
	data = append(data, dateTime[:]...)
	data = append(data, mac2[:]...)
	b, err := apdu.Exchange(c.t, apdu.Command{CLA: 0x80, INS: 0x52, Data: data, Ne: 4})
	if err != nil {
		return tac, fmt.Errorf("%w: credit for load: %w", ErrLoadIncomplete, err)
	}
	if len(b) != 4 {
		return tac, fmt.Errorf("%w: %w: TAC %d bytes", ErrLoadIncomplete, ErrLength, len(b))
	}
	copy(tac[:], b)
	return tac, nil
}

// LoadRequest names one load as the terminal side runs it.
type LoadRequest struct {
	KeyIndex byte
	Amount   int64   // fen
	Terminal [6]byte // terminal number given to the card
	DateTime [7]byte // BCD local date and time given to the card
}

// Authorizer is asked for MAC2 once the card answered INITIALIZE FOR LOAD
// (in the field: the 0200/190000 round trip to the gateway). An error
// means the load was declined and nothing was debited.
type Authorizer func(info AppInfo, init LoadInit) (mac2 [4]byte, err error)

// LoadResult is a completed load.
type LoadResult struct {
	Info AppInfo
	Init LoadInit
	TAC  [4]byte
}

// Load runs a whole load: SELECT, read the application info (the serial
// the gateway derives the key from), INITIALIZE FOR LOAD, authorize,
// CREDIT FOR LOAD. An error wrapping ErrLoadIncomplete comes after a
// successful authorisation and means the caller must reverse it; any
// other error means nothing was authorised.
func (c *Card) Load(req LoadRequest, authorize Authorizer) (LoadResult, error) {
	var res LoadResult
	if err := c.Select(); err != nil {
		return res, err
	}
	var err error
	if res.Info, err = c.ReadAppInfo(); err != nil {
		return res, err
	}
	if res.Init, err = c.InitializeForLoad(req.KeyIndex, req.Amount, req.Terminal); err != nil {
		return res, err
	}
	mac2, err := authorize(res.Info, res.Init)
	if err != nil {
		return res, fmt.Errorf("campuscard: load not authorised: %w", err)
	}
	if res.TAC, err = c.CreditForLoad(req.DateTime, mac2); err != nil {
		return res, err
	}
	return res, nil
}
