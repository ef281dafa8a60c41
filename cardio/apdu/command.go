package apdu

// MaxNe is the largest expected length a short APDU can ask for (Le 00).
const MaxNe = 256

// Command is a command APDU. Ne is the number of response data bytes
// expected: 0 means no Le field (cases 1 and 3), 1..256 is encoded as a
// one-byte Le where 256 is 00. Data of 1..255 bytes gives an Lc field.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Ne               int
}

// Append appends the encoded command to dst (case 1 to 4, short form).
func (c Command) Append(dst []byte) ([]byte, error) {
	if len(c.Data) > 255 || c.Ne < 0 || c.Ne > MaxNe {
		return dst, ErrBadCommand
	}
	dst = append(dst, c.CLA, c.INS, c.P1, c.P2)
	if len(c.Data) > 0 {
		dst = append(dst, byte(len(c.Data)))
		dst = append(dst, c.Data...)
	}
	if c.Ne > 0 {
		dst = append(dst, byte(c.Ne)) // 256 wraps to 00 as ISO 7816-4 wants
	}
	return dst, nil
}

// Bytes returns the encoded command.
func (c Command) Bytes() ([]byte, error) {
	return c.Append(make([]byte, 0, 5+len(c.Data)+1))
}

// ParseCommand decodes a short command APDU; the virtual card uses it.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, ErrBadCommand
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2
		c.Ne = leToNe(body[0])
	default:
		lc := int(body[0])
		if lc == 0 {
			// 00 followed by more bytes would be extended length.
			return Command{}, ErrBadCommand
		}
		switch len(body) {
		case 1 + lc: // case 3
		case 2 + lc: // case 4
			c.Ne = leToNe(body[1+lc])
		default:
			return Command{}, ErrBadCommand
		}
		c.Data = body[1 : 1+lc]
	}
	return c, nil
}

func leToNe(le byte) int {
	if le == 0 {
		return MaxNe
	}
	return int(le)
}
