package tlv

// MaxValue is the longest value a one-byte length can announce.
const MaxValue = 255

const itemHead = 3 // tag (2) + length (1)

// Next splits the first item off b. val and rest alias b. Empty b is
// ErrTruncated: callers loop while len(rest) > 0.
func Next(b []byte) (tag uint16, val []byte, rest []byte, err error) {
	if len(b) < itemHead {
		return 0, nil, b, ErrTruncated
	}
	n := int(b[2])
	if len(b)-itemHead < n {
		return 0, nil, b, ErrTruncated
	}
	tag = uint16(b[0])<<8 | uint16(b[1])
	end := itemHead + n
	return tag, b[itemHead:end:end], b[end:], nil
}

// Find returns the value of the first item tagged tag. Items before it must
// be whole; items after it are not examined (use Validate for that).
func Find(b []byte, tag uint16) ([]byte, bool, error) {
	for len(b) > 0 {
		t, v, rest, err := Next(b)
		if err != nil {
			return nil, false, err
		}
		if t == tag {
			return v, true, nil
		}
		b = rest
	}
	return nil, false, nil
}

// Append appends one item. A value longer than MaxValue cannot be
// expressed and is a programming error (all campus tags are short and
// fixed), so it panics rather than writing a corrupt item.
func Append(dst []byte, tag uint16, val []byte) []byte {
	if len(val) > MaxValue {
		panic("tlv: value longer than 255 bytes")
	}
	dst = append(dst, byte(tag>>8), byte(tag), byte(len(val)))
	return append(dst, val...)
}

// Validate checks that b is a run of whole items.
func Validate(b []byte) error {
	for len(b) > 0 {
		_, _, rest, err := Next(b)
		if err != nil {
			return err
		}
		b = rest
	}
	return nil
}
