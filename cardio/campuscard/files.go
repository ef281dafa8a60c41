package campuscard

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"ecardgw/cardio/pboc"
)

// Card type byte of the cardholder file.
const (
	TypeStudent   byte = 0x01
	TypeStaff     byte = 0x02
	TypeTemporary byte = 0x03
)

// File sizes fixed by the specification.
const (
	AppInfoLen = 30
	HolderLen  = 55
	LogLen     = 23
)

// AppInfo is SFI 0x15, the application information file.
type AppInfo struct {
	IssuerID  string               // 8 ASCII characters
	AppType   byte                 //
	Version   byte                 //
	Serial    [pboc.SerialLen]byte // application serial number, BCD
	ValidFrom time.Time            // UTC midnight
	ValidTo   time.Time            // UTC midnight
}

// SerialDigits returns the 20-digit application serial number.
func (a AppInfo) SerialDigits() string { return digits(a.Serial[:]) }

// CardNumber returns the card number printed on the card and sent in
// field 2: the last 12 digits of the serial number. It is a full card
// number: mask it before logging.
func (a AppInfo) CardNumber() string {
	d := a.SerialDigits()
	return d[len(d)-12:]
}

// ParseAppInfo decodes the 30-byte application information file.
func ParseAppInfo(b []byte) (AppInfo, error) {
	var a AppInfo
	if len(b) != AppInfoLen {
		return a, fmt.Errorf("%w: application info %d bytes", ErrLength, len(b))
	}
	a.IssuerID = strings.TrimRight(string(b[0:8]), "\x00 ")
	a.AppType, a.Version = b[8], b[9]
	copy(a.Serial[:], b[10:20])
	if !isBCD(a.Serial[:]) {
		return a, fmt.Errorf("%w: serial number not BCD", ErrFormat)
	}
	var err error
	if a.ValidFrom, err = bcdDate(b[20:24]); err != nil {
		return a, err
	}
	if a.ValidTo, err = bcdDate(b[24:28]); err != nil {
		return a, err
	}
	return a, nil
}

// AppendAppInfo encodes the file; the virtual card uses it.
func AppendAppInfo(dst []byte, a AppInfo) []byte {
	var issuer [8]byte
	copy(issuer[:], a.IssuerID)
	dst = append(dst, issuer[:]...)
	dst = append(dst, a.AppType, a.Version)
	dst = append(dst, a.Serial[:]...)
	dst = appendBCDDate(dst, a.ValidFrom)
	dst = appendBCDDate(dst, a.ValidTo)
	return append(dst, 0, 0)
}

// Holder is SFI 0x16, the cardholder file.
type Holder struct {
	Account  uint64 // campus account number
	CardType byte   // TypeStudent, TypeStaff, TypeTemporary
	Name     string // UTF-8
	StaffNo  string // student or staff number
}

// ParseHolder decodes the 55-byte cardholder file.
func ParseHolder(b []byte) (Holder, error) {
	var h Holder
	if len(b) != HolderLen {
		return h, fmt.Errorf("%w: cardholder %d bytes", ErrLength, len(b))
	}
	h.Account = binary.BigEndian.Uint64(b[0:8])
	h.CardType = b[8]
	h.Name = strings.TrimRight(string(b[9:39]), "\x00")
	h.StaffNo = strings.TrimRight(string(b[39:55]), "\x00")
	return h, nil
}

// AppendHolder encodes the file, truncating name and number to their
// fields; the virtual card uses it.
func AppendHolder(dst []byte, h Holder) []byte {
	var name [30]byte
	var no [16]byte
	copy(name[:], h.Name)
	copy(no[:], h.StaffNo)
	dst = binary.BigEndian.AppendUint64(dst, h.Account)
	dst = append(dst, h.CardType)
	dst = append(dst, name[:]...)
	return append(dst, no[:]...)
}

// LogRecord is one record of SFI 0x18, the transaction log.
type LogRecord struct {
	Counter   uint16  // online counter (load) or offline counter (purchase)
	Overdraft uint32  // 3 bytes on the card
	Amount    int64   // fen
	Type      byte    // pboc.TypeLoad or pboc.TypePurchase
	Terminal  [6]byte // terminal number
	DateTime  [7]byte // BCD YYYYMMDDhhmmss, terminal local time
}

// ParseLogRecord decodes one 23-byte log record.
func ParseLogRecord(b []byte) (LogRecord, error) {
	var r LogRecord
	if len(b) != LogLen {
		return r, fmt.Errorf("%w: log record %d bytes", ErrLength, len(b))
	}
	r.Counter = binary.BigEndian.Uint16(b[0:2])
	r.Overdraft = uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
	r.Amount = int64(binary.BigEndian.Uint32(b[5:9]))
	r.Type = b[9]
	copy(r.Terminal[:], b[10:16])
	copy(r.DateTime[:], b[16:23])
	return r, nil
}

// AppendLogRecord encodes one record; the virtual card uses it.
func AppendLogRecord(dst []byte, r LogRecord) []byte {
	dst = binary.BigEndian.AppendUint16(dst, r.Counter)
	dst = append(dst, byte(r.Overdraft>>16), byte(r.Overdraft>>8), byte(r.Overdraft))
	dst = binary.BigEndian.AppendUint32(dst, uint32(r.Amount))
	dst = append(dst, r.Type)
	dst = append(dst, r.Terminal[:]...)
	return append(dst, r.DateTime[:]...)
}

func isBCD(b []byte) bool {
	for _, x := range b {
		if x>>4 > 9 || x&0x0f > 9 {
			return false
		}
	}
	return true
}

func digits(b []byte) string {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, hex[x>>4], hex[x&0x0f])
	}
	return string(out)
}

func bcdDate(b []byte) (time.Time, error) {
	var dt [7]byte
	copy(dt[:], b)
	t, err := pboc.ParseDateTime(dt, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: validity date", ErrFormat)
	}
	return t, nil
}

func appendBCDDate(dst []byte, t time.Time) []byte {
	dt := pboc.DateTime(t)
	return append(dst, dt[:4]...)
}
