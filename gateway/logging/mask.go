package logging

import "strings"

// MaskPAN masks a card number for logs and error text:
//
//   - 13 or more characters (bank and UnionPay cards, 16-digit campus
//     account numbers): the first 6 and last 4 stay, as PCI DSS allows;
//   - exactly 12 (campus card numbers, and the 12 digits blacklist entries
//     carry): the first 2 and last 4 stay, because the first 6 of a
//     12-digit number would leave only 2 unknown digits;
//   - 6 to 11: only the last 2 stay, enough to tell two cards apart in a
//     conversation with the card holder;
//   - shorter than 6, or anything that is not plain ASCII: all masked.
//
// Every hidden character becomes '*', so the length stays visible. MaskPAN
// does not check that s is made of digits: whatever is passed as a card
// number is treated as one.
func MaskPAN(s string) string {
	n := len(s)
	for i := 0; i < n; i++ {
		if s[i] >= 0x80 {
			return strings.Repeat("*", len([]rune(s)))
		}
	}
	var head, tail int
	switch {
	case n >= 13:
		head, tail = 6, 4
	case n == 12:
		head, tail = 2, 4
	case n >= 6:
		head, tail = 0, 2
	default:
		head, tail = 0, 0
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(s[:head])
	for range n - head - tail {
		b.WriteByte('*')
	}
	b.WriteString(s[n-tail:])
	return b.String()
}

// Redacted replaces the value of an attribute that must never be logged.
const Redacted = "[REDACTED]"

// Thresholds of the safety net in Sanitize.
const (
	minDigitRun = 12 // campus card numbers are the shortest card numbers: 12 digits
	minHexRun   = 16 // an 8-byte DES key in hex; 3DES, SM4 and Ed25519 keys are longer
)

// Sanitize is the safety net applied to every logged message and string
// attribute: a run of minHexRun or more hex characters that contains a
// letter is replaced by Redacted (keys, MACs, key check material, whole
// frames in hex), and a run of minDigitRun or more digits is masked with
// MaskPAN (card and account numbers, payment codes). It returns s itself,
// without allocating, when there is nothing to mask.
func Sanitize(s string) string {
	if !needsSanitize(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if !isHex(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		letter := false
		for j < len(s) && isHex(s[j]) {
			letter = letter || !isDigit(s[j])
			j++
		}
		if letter && j-i >= minHexRun {
			b.WriteString(Redacted)
		} else {
			maskDigitRuns(&b, s[i:j])
		}
		i = j
	}
	return b.String()
}

// maskDigitRuns writes run (hex characters only) with each long digit run masked.
func maskDigitRuns(b *strings.Builder, run string) {
	for i := 0; i < len(run); {
		if !isDigit(run[i]) {
			b.WriteByte(run[i])
			i++
			continue
		}
		j := i
		for j < len(run) && isDigit(run[j]) {
			j++
		}
		if j-i >= minDigitRun {
			b.WriteString(MaskPAN(run[i:j]))
		} else {
			b.WriteString(run[i:j])
		}
		i = j
	}
}

func needsSanitize(s string) bool {
	hexRun, digitRun := 0, 0
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			hexRun++
			digitRun++
		case isHex(c):
			hexRun++
			digitRun = 0
			letter = true
		default:
			hexRun, digitRun, letter = 0, 0, false
		}
		if digitRun >= minDigitRun || (letter && hexRun >= minHexRun) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
