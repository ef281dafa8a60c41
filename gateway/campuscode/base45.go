package campuscode

// Base45 (RFC 9285): the alphabet is the 45 characters of QR alphanumeric
// mode, so a campus code fits the densest QR mode a phone can show.
const base45Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// base45Value maps a character to its value; 0xFF marks characters that
// are not in the alphabet. A table keeps decoding branch-light.
var base45Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(base45Alphabet); i++ {
		t[base45Alphabet[i]] = byte(i)
	}
	return t
}()

// Base45EncodedLen is the length of the Base45 text of n bytes.
func Base45EncodedLen(n int) int { return n/2*3 + n%2*2 }

// Base45DecodedLen is the number of bytes n characters decode to; ok is
// false when no byte string encodes to n characters.
func Base45DecodedLen(n int) (int, bool) {
	if n%3 == 1 {
		return 0, false
	}
	return n/3*2 + n%3/2, true
}

// AppendBase45 appends the Base45 text of src to dst.
func AppendBase45(dst, src []byte) []byte {
	for len(src) >= 2 {
		n := uint(src[0])<<8 | uint(src[1])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45%45], base45Alphabet[n/2025])
		src = src[2:]
	}
	if len(src) == 1 {
		n := uint(src[0])
		dst = append(dst, base45Alphabet[n%45], base45Alphabet[n/45])
	}
	return dst
}

// AppendBase45Decode appends the bytes src decodes to onto dst. It rejects
// characters outside the alphabet, a length of 3k+1, triples above 65535
// and pairs above 255; with those checks every byte string has exactly one
// text, so decoding and re-encoding gives the input back.
func AppendBase45Decode(dst, src []byte) ([]byte, error) {
	if len(src)%3 == 1 {
		return dst, errB45Len
	}
	for len(src) >= 3 {
		c, d, e := base45Value[src[0]], base45Value[src[1]], base45Value[src[2]]
		if c == 0xFF || d == 0xFF || e == 0xFF {
			return dst, errB45Char
		}
		n := uint(c) + uint(d)*45 + uint(e)*2025
		if n > 0xFFFF {
			return dst, errB45Range
		}
		dst = append(dst, byte(n>>8), byte(n))
		src = src[3:]
	}
	if len(src) == 2 {
		c, d := base45Value[src[0]], base45Value[src[1]]
		if c == 0xFF || d == 0xFF {
			return dst, errB45Char
		}
		n := uint(c) + uint(d)*45
		if n > 0xFF {
			return dst, errB45Range
		}
		dst = append(dst, byte(n))
	}
	return dst, nil
}
