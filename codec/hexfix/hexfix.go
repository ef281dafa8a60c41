package hexfix

import (
	"fmt"
)

// Parse strips comments and whitespace from text and decodes the hex
// digits that remain. Digits pair up in order whatever the spacing, so an
// annotator may group them freely ("0 2" is 0x02); an odd total is an
// error because it means a digit was lost.
func Parse(text []byte) ([]byte, error) {
	out := make([]byte, 0, len(text)/2)
	var hi byte
	half := false
	line := 1
	inComment := false
	for _, c := range text {
		if c == '\n' {
			line++
			inComment = false
			continue
		}
		if inComment {
			continue
		}
		var v byte
		switch {
		case c == '#':
			inComment = true
			continue
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return nil, fmt.Errorf("line %d: %w", line, ErrBadDigit)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		return nil, ErrOddDigits
	}
	return out, nil
}
