package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Bucket names. Changing one is a schema change.
var (
	bktMeta       = []byte("meta")       // internal: schema version, RRN counter
	bktSettings   = []byte("settings")   // Tx.Meta / Tx.PutMeta
	bktAccounts   = []byte("accounts")   // account no (u64) -> Account
	bktCards      = []byte("cards")      // card number -> account no
	bktNames      = []byte("names")      // name NUL staff no -> account no
	bktJournal    = []byte("journal")    // seq (u64) -> Record
	bktOutbox     = []byte("outbox")     // seq (u64) -> account (u64), for the forwarder
	bktIdem       = []byte("idem")       // IdemKey -> answer frame + transaction state
	bktTombstones = []byte("tombstones") // IdemKey -> time
	bktSessions   = []byte("sessions")   // terminal -> sealed Session
	bktBatches    = []byte("batches")    // terminal (16) batch (u32) -> BatchTotals
	bktReplay     = []byte("replay")     // account genAt counter -> expires
	bktReplayExp  = []byte("replayexp")  // expires account genAt counter -> nil
)

var allBuckets = [][]byte{
	bktMeta, bktSettings, bktAccounts, bktCards, bktNames, bktJournal,
	bktOutbox, bktIdem, bktTombstones, bktSessions,
	bktBatches, bktReplay, bktReplayExp, bktIdemLog,
}

// TerminalMax is the longest terminal id a key can hold (field 41 is 8).
const TerminalMax = 16

// IdemKeySize is the length of an encoded IdemKey.
const IdemKeySize = TerminalMax + 4 + 4 + 2

// IdemKey identifies one request of one terminal: the idempotency key of
// promise 2. MTI is the request's MTI as a number (200 for "0200").
type IdemKey struct {
	Terminal string
	Batch    uint32
	STAN     uint32
	MTI      uint16
}

// appendTerminal writes the terminal id NUL-padded to TerminalMax bytes.
// NUL is refused inside an id so that padding is unambiguous.
func appendTerminal(dst []byte, term string) ([]byte, error) {
	if term == "" || len(term) > TerminalMax || bytes.IndexByte([]byte(term), 0) >= 0 {
		return dst, ErrBadKey
	}
	dst = append(dst, term...)
	for i := len(term); i < TerminalMax; i++ {
		dst = append(dst, 0)
	}
	return dst, nil
}

// appendKey appends the fixed-width key encoding of k: terminal (16,
// NUL-padded), batch, STAN (u32), MTI (u16), big-endian so keys of one
// terminal and batch sort together.
func (k IdemKey) appendKey(dst []byte) ([]byte, error) {
	dst, err := appendTerminal(dst, k.Terminal)
	if err != nil {
		return dst, err
	}
	dst = binary.BigEndian.AppendUint32(dst, k.Batch)
	dst = binary.BigEndian.AppendUint32(dst, k.STAN)
	return binary.BigEndian.AppendUint16(dst, k.MTI), nil
}

// parseIdemKey decodes what appendKey wrote.
func parseIdemKey(b []byte) (IdemKey, error) {
	if len(b) != IdemKeySize {
		return IdemKey{}, ErrCorruptValue
	}
	term := b[:TerminalMax]
	n := bytes.IndexByte(term, 0)
	if n < 0 {
		n = TerminalMax
	}
	k := IdemKey{
		Terminal: string(term[:n]),
		Batch:    binary.BigEndian.Uint32(b[16:]),
		STAN:     binary.BigEndian.Uint32(b[20:]),
		MTI:      binary.BigEndian.Uint16(b[24:]),
	}
	// Padding must be all NUL and the id non-empty, or re-encoding differs.
	for _, c := range term[n:] {
		if c != 0 {
			return IdemKey{}, ErrCorruptValue
		}
	}
	if n == 0 {
		return IdemKey{}, ErrCorruptValue
	}
	return k, nil
}

func (k IdemKey) key() ([]byte, error) {
	return k.appendKey(make([]byte, 0, IdemKeySize))
}

// encIdem writes an IdemKey inside a value (length-prefixed terminal).
func (e *enc) idem(k IdemKey) {
	e.str(k.Terminal)
	e.u32(k.Batch)
	e.u32(k.STAN)
	e.u16(k.MTI)
}

func (d *dec) idem() IdemKey {
	return IdemKey{Terminal: d.str(), Batch: d.u32(), STAN: d.u32(), MTI: d.u16()}
}

// TradeNo is the channel trade number of the payment-code request k: its
// terminal id, batch and STAN (six digits each, the POS's own counters)
// and MTI (four), so that a trade can be found, queried or cancelled at
// the channel with nothing but the POS's numbers: T0000001 000001 000014
// 0200 is T00000010000010000140200.
func (k IdemKey) TradeNo() string {
	return fmt.Sprintf("%s%06d%06d%04d", k.Terminal, k.Batch%1000000, k.STAN%1000000, k.MTI)
}

// Derived is the key of the one journal record a request writes besides
// its own (the water consumed, journaled with a small-wallet load): the
// request's key with the MTI's version digit 9, ISO 8583's "private use"
// (0200 → 9200). Every journal record so has a key of its own, and the
// receivers of forwarded records, which drop duplicates by key, keep it.
func (k IdemKey) Derived() IdemKey {
	k.MTI = 9000 + k.MTI%1000
	return k
}

// Settled is the key of the record that settles request k later, from
// another request (a reversed small-wallet load debited again when the
// card's next load shows it took it): k with the MTI's version digit 7
// (0200 → 7200), which ISO 8583 reserves. A request is settled at most
// once.
func (k IdemKey) Settled() IdemKey {
	k.MTI = 7000 + k.MTI%1000
	return k
}
