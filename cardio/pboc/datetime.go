package pboc

import (
	"errors"
	"time"
)

// ErrBadDateTime reports a BCD date-time that is not a valid
// YYYYMMDDhhmmss.
var ErrBadDateTime = errors.New("pboc: bad BCD date and time")

// DateTime encodes t as the 7-byte BCD YYYYMMDDhhmmss the terminal gives
// the card in CREDIT FOR LOAD (tag DF0A). The caller chooses the zone: the
// wire carries local time, the gateway keeps UTC inside.
func DateTime(t time.Time) [7]byte {
	var b [7]byte
	y := t.Year()
	b[0] = bcd(y / 100)
	b[1] = bcd(y % 100)
	b[2] = bcd(int(t.Month()))
	b[3] = bcd(t.Day())
	b[4] = bcd(t.Hour())
	b[5] = bcd(t.Minute())
	b[6] = bcd(t.Second())
	return b
}

// ParseDateTime decodes a 7-byte BCD YYYYMMDDhhmmss in loc.
func ParseDateTime(b [7]byte, loc *time.Location) (time.Time, error) {
	var v [7]int
	for i, x := range b {
		d, ok := unbcd(x)
		if !ok {
			return time.Time{}, ErrBadDateTime
		}
		v[i] = d
	}
	y, mo, d, h, mi, s := v[0]*100+v[1], v[2], v[3], v[4], v[5], v[6]
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
	// time.Date normalises 31 February into March; a card date must not.
	if t.Month() != time.Month(mo) || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != s {
		return time.Time{}, ErrBadDateTime
	}
	return t, nil
}

func bcd(v int) byte { return byte(v/10<<4 | v%10) }

func unbcd(b byte) (int, bool) {
	hi, lo := b>>4, b&0x0f
	if hi > 9 || lo > 9 {
		return 0, false
	}
	return int(hi)*10 + int(lo), true
}
