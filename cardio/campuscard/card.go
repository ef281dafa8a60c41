package campuscard

import (
	"encoding/binary"
	"errors"
	"fmt"

	"ecardgw/cardio/apdu"
)

// AID is the campus application identifier ("ECARD" v1).
var AID = []byte{0xF0, 0x45, 0x43, 0x41, 0x52, 0x44, 0x01}

// Short file identifiers.
const (
	SFIAppInfo = 0x15
	SFIHolder  = 0x16
	SFILog     = 0x18
)

// MaxLog is the number of log records the campus card keeps.
const MaxLog = 10

// Card is the campus application on one card. It is not safe for
// concurrent use: a card answers one command at a time.
type Card struct {
	t apdu.Transmitter
}

// New wraps a transmitter connected to a card.
func New(t apdu.Transmitter) *Card { return &Card{t: t} }

// Select selects the campus application; every other command needs it.
func (c *Card) Select() error {
	_, err := apdu.Exchange(c.t, apdu.Command{INS: 0xA4, P1: 0x04, Data: AID, Ne: apdu.MaxNe})
	if err != nil {
		return fmt.Errorf("campuscard: select: %w", err)
	}
	return nil
}

// UID returns the contactless UID through the PC/SC pseudo-APDU
// FF CA 00 00 00, which the reader (not the card) answers. Readers that do
// not support it answer a status error.
func (c *Card) UID() ([]byte, error) {
	uid, err := apdu.Exchange(c.t, apdu.Command{CLA: 0xFF, INS: 0xCA, Ne: apdu.MaxNe})
	if err != nil {
		return nil, fmt.Errorf("campuscard: get UID: %w", err)
	}
	if len(uid) == 0 {
		return nil, fmt.Errorf("%w: empty UID", ErrLength)
	}
	return uid, nil
}

// ReadAppInfo reads SFI 0x15.
func (c *Card) ReadAppInfo() (AppInfo, error) {
	b, err := c.readBinary(SFIAppInfo, AppInfoLen)
	if err != nil {
		return AppInfo{}, err
	}
	return ParseAppInfo(b)
}

// ReadHolder reads SFI 0x16.
func (c *Card) ReadHolder() (Holder, error) {
	b, err := c.readBinary(SFIHolder, HolderLen)
	if err != nil {
		return Holder{}, err
	}
	return ParseHolder(b)
}

func (c *Card) readBinary(sfi byte, n int) ([]byte, error) {
	b, err := apdu.Exchange(c.t, apdu.Command{INS: 0xB0, P1: 0x80 | sfi, Ne: n})
	if err != nil {
		return nil, fmt.Errorf("campuscard: read SFI %02X: %w", sfi, err)
	}
	return b, nil
}

// Balance returns the small-wallet balance in fen (GET BALANCE).
func (c *Card) Balance() (int64, error) {
	b, err := apdu.Exchange(c.t, apdu.Command{CLA: 0x80, INS: 0x5C, P2: 0x02, Ne: 4})
	if err != nil {
		return 0, fmt.Errorf("campuscard: get balance: %w", err)
	}
	if len(b) != 4 {
		return 0, fmt.Errorf("%w: balance %d bytes", ErrLength, len(b))
	}
	return int64(binary.BigEndian.Uint32(b)), nil
}

// ReadLog reads up to n log records, newest first. It stops early when
// the card has fewer (record not found), which is not an error.
func (c *Card) ReadLog(n int) ([]LogRecord, error) {
	n = min(n, MaxLog)
	out := make([]LogRecord, 0, n)
	for i := 1; i <= n; i++ {
		b, err := apdu.Exchange(c.t, apdu.Command{INS: 0xB2, P1: byte(i), P2: SFILog<<3 | 4, Ne: LogLen})
		if errors.Is(err, apdu.ErrRecordNotFound) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("campuscard: read log record %d: %w", i, err)
		}
		r, err := ParseLogRecord(b)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
