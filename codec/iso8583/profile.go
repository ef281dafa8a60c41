package iso8583

// fieldType is the ISO 8583 content type of a field.
type fieldType uint8

const (
	typeNone fieldType = iota
	typeN              // BCD digits
	typeAN             // printable ASCII
	typeANS            // printable ASCII
	typeB              // raw bytes
)

// lenKind is how a field's length is known.
type lenKind uint8

const (
	lenFixed lenKind = iota
	lenLL            // 1-byte BCD prefix
	lenLLL           // 2-byte BCD prefix
)

type fieldSpec struct {
	typ fieldType
	lk  lenKind
	// max is the length (fixed) or maximum length (LL/LLL): digits for n
	// fields, bytes otherwise.
	max int
	// leftAlign puts the pad nibble of an odd-length fixed n field last.
	// Variable n fields are always left-aligned.
	leftAlign bool
}

// profile is the campus field table of shared/spec/pos-protocol.md.
var profile = [65]fieldSpec{
	2:  {typ: typeN, lk: lenLL, max: 19},
	3:  {typ: typeN, max: 6},
	4:  {typ: typeN, max: 12},
	11: {typ: typeN, max: 6},
	12: {typ: typeN, max: 6},
	13: {typ: typeN, max: 4},
	22: {typ: typeN, max: 3, leftAlign: true},
	25: {typ: typeN, max: 2},
	37: {typ: typeAN, max: 12},
	38: {typ: typeAN, max: 6},
	39: {typ: typeAN, max: 2},
	41: {typ: typeANS, max: 8},
	42: {typ: typeANS, max: 15},
	44: {typ: typeANS, lk: lenLL, max: 25},
	48: {typ: typeN, lk: lenLLL, max: 31},
	49: {typ: typeAN, max: 3},
	54: {typ: typeAN, lk: lenLLL, max: 40},
	55: {typ: typeB, lk: lenLLL, max: 255},
	60: {typ: typeN, lk: lenLLL, max: 11},
	61: {typ: typeN, lk: lenLLL, max: 16},
	62: {typ: typeB, lk: lenLLL, max: 512},
	63: {typ: typeANS, lk: lenLLL, max: 163},
	64: {typ: typeB, max: 8},
}

// profileMask has a bit for every field of the profile, in bitmap order.
var profileMask = func() uint64 {
	var m uint64
	for f := 2; f <= 64; f++ {
		if profile[f].typ != typeNone {
			m |= bit(f)
		}
	}
	return m
}()

// bit is field f's bit in the bitmap read as a big-endian uint64.
func bit(f int) uint64 { return 1 << (64 - f) }

// leftPadded reports whether an odd digit count puts the pad nibble last.
func (s *fieldSpec) leftPadded() bool { return s.lk != lenFixed || s.leftAlign }

// wireSize is the number of value bytes for count (digits or bytes).
func (s *fieldSpec) wireSize(count int) int {
	if s.typ == typeN {
		return (count + 1) / 2
	}
	return count
}

// specOf returns the spec of field f, or nil outside the profile.
func specOf(f int) *fieldSpec {
	if f < 2 || f > 64 || profile[f].typ == typeNone {
		return nil
	}
	return &profile[f]
}
