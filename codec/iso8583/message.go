package iso8583

import (
	"math/bits"

	"ecardgw/codec/frame"
	"ecardgw/codec/mac"
)

// MTI is the message type as a number: 200 means "0200".
type MTI uint16

// Response is the MTI of the answer to t: its function digit (the third)
// made a response's, request + 10 — 0200 → 0210, 0820 → 0830. An odd
// function digit (a response already, or 9) stays as it is, so the answer
// to an MTI the profile does not know has four digits too: 9999 is
// answered 9999, not 10009, which no frame can carry.
func (t MTI) Response() MTI {
	if t/10%2 == 0 {
		return t + 10
	}
	return t
}

// String is the four-digit form, "0200".
func (t MTI) String() string {
	if t > 9999 {
		return "????"
	}
	return string([]byte{'0' + byte(t/1000), '0' + byte(t/100%10), '0' + byte(t/10%10), '0' + byte(t%10)})
}

// arenaStart is the first arena size: a typical answer fits, so a fresh
// Message grows once and a reused one never.
const arenaStart = 512

// Message is one campus-profile message. The zero value is ready; reuse
// one per connection or worker with Reset (Decode resets by itself).
// Values from Decode alias the decoded buffer and stay valid only as long
// as it does; values from setters live in the Message's own arena.
// A Message is not safe for concurrent use.
type Message struct {
	Header frame.Header
	MTI    MTI

	bitmap uint64
	val    [65][]byte
	// digits is the digit count of each present n field (the pad nibble
	// makes it unrecoverable from the byte length).
	digits [65]uint8
	mab    []byte
	arena  []byte
	// macKey keeps the last MAK's DES schedule, so answering a terminal
	// session again and again does not re-key (or allocate).
	macKey mac.Key
}

// Reset empties m, keeping its arena for reuse.
func (m *Message) Reset() {
	m.clearFields()
	m.Header = frame.Header{}
	m.MTI = 0
}

func (m *Message) clearFields() {
	for rem := m.bitmap; rem != 0; {
		f := bits.LeadingZeros64(rem) + 1
		rem &^= bit(f)
		m.val[f] = nil
		m.digits[f] = 0
	}
	m.bitmap = 0
	m.mab = nil
	m.arena = m.arena[:0]
}

// Has reports whether field f is present.
func (m *Message) Has(f int) bool {
	return f >= 1 && f <= 64 && m.bitmap&bit(f) != 0
}

// Raw is field f's wire value without its length prefix (packed BCD for n
// fields), or nil when absent.
func (m *Message) Raw(f int) []byte {
	if !m.Has(f) {
		return nil
	}
	return m.val[f]
}

// Bytes is the value of an an/ans/b field, or nil when absent or n.
func (m *Message) Bytes(f int) []byte {
	if !m.Has(f) || profile[f].typ == typeN {
		return nil
	}
	return m.val[f]
}

// Unset removes field f.
func (m *Message) Unset(f int) {
	if !m.Has(f) {
		return
	}
	m.bitmap &^= bit(f)
	m.val[f] = nil
	m.digits[f] = 0
}

// MAB is what the MAC of a decoded message covers: MTI to the end of the
// field before 64. nil when the decoded message had no field 64 (or m was
// built by setters).
func (m *Message) MAB() []byte { return m.mab }

// alloc returns n bytes of arena. Growing the arena moves later values to
// a new array; earlier values keep the old one, which they still own.
func (m *Message) alloc(n int) []byte {
	s := len(m.arena)
	if cap(m.arena)-s < n {
		c := max(2*cap(m.arena), arenaStart, s+n)
		na := make([]byte, s, c)
		copy(na, m.arena)
		m.arena = na
	}
	m.arena = m.arena[:s+n]
	return m.arena[s : s+n : s+n]
}

// put stores field f with a value already in wire form.
func (m *Message) put(f int, v []byte, nd int) {
	m.val[f] = v
	m.digits[f] = uint8(nd)
	m.bitmap |= bit(f)
}

// Copy makes dst a copy of m whose values live in dst's arena, so dst
// outlives the buffer m was decoded from. The MAB is not copied.
func (m *Message) Copy(dst *Message) {
	if dst == m {
		return
	}
	dst.Reset()
	dst.Header = m.Header
	dst.MTI = m.MTI
	for rem := m.bitmap; rem != 0; {
		f := bits.LeadingZeros64(rem) + 1
		rem &^= bit(f)
		dst.copyField(m, f)
	}
}

func (m *Message) copyField(src *Message, f int) {
	v := m.alloc(len(src.val[f]))
	copy(v, src.val[f])
	m.put(f, v, int(src.digits[f]))
}

// SetResponseFrom starts m as the answer to req: m is reset, gets the
// reply header (TPDU swapped, processing requirement 0), MTI req.MTI+10,
// and a copy of each listed field req carries. Fields req lacks and
// numbers outside the profile are skipped. req may be m itself, which
// then keeps only the listed fields.
func (m *Message) SetResponseFrom(req *Message, fields ...int) {
	if req == m {
		var keep uint64
		for _, f := range fields {
			if m.Has(f) {
				keep |= bit(f)
			}
		}
		for rem := m.bitmap &^ keep; rem != 0; {
			f := bits.LeadingZeros64(rem) + 1
			rem &^= bit(f)
			m.Unset(f)
		}
		m.mab = nil
		m.Header = m.Header.Reply(0)
		m.MTI = m.MTI.Response()
		return
	}
	m.Reset()
	m.Header = req.Header.Reply(0)
	m.MTI = req.MTI.Response()
	for _, f := range fields {
		if req.Has(f) && f != 1 {
			m.copyField(req, f)
		}
	}
}
