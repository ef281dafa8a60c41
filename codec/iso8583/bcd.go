package iso8583

// bcdByte reads one packed BCD byte as 0..99.
func bcdByte(b byte) (int, bool) {
	hi, lo := b>>4, b&0x0F
	if hi > 9 || lo > 9 {
		return 0, false
	}
	return int(hi)*10 + int(lo), true
}

// validDigits checks a packed n value of nd digits: every nibble a digit
// and the pad nibble (odd nd) zero, last when left is set, first otherwise.
func validDigits(v []byte, nd int, left bool) bool {
	for _, b := range v {
		if b>>4 > 9 || b&0x0F > 9 {
			return false
		}
	}
	if nd%2 == 1 && len(v) > 0 {
		if left {
			return v[len(v)-1]&0x0F == 0
		}
		return v[0]>>4 == 0
	}
	return true
}

// digitAt returns digit i (0-based, pad excluded) of a packed value.
func digitAt(v []byte, nd, i int, left bool) byte {
	j := i
	if !left && nd%2 == 1 {
		j++
	}
	b := v[j/2]
	if j%2 == 0 {
		return b >> 4
	}
	return b & 0x0F
}

// packDigits writes ASCII digits (already checked) into dst, which is
// (len(digits)+1)/2 bytes, putting the pad nibble last when left is set.
func packDigits[S ~string | ~[]byte](dst []byte, digits S, left bool) {
	nd := len(digits)
	j := 0
	if !left && nd%2 == 1 {
		j = 1
	}
	clear(dst)
	for i := 0; i < nd; i++ {
		d := digits[i] - '0'
		if j%2 == 0 {
			dst[j/2] = d << 4
		} else {
			dst[j/2] |= d
		}
		j++
	}
}

func allDigits[S ~string | ~[]byte](s S) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return -1
}

func allPrintable[S ~string | ~[]byte](s S) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return i
		}
	}
	return -1
}

// appendBCD4 appends v (0..9999) as two BCD bytes.
func appendBCD4(dst []byte, v int) []byte {
	return append(dst, byte(v/1000)<<4|byte(v/100%10), byte(v/10%10)<<4|byte(v%10))
}
