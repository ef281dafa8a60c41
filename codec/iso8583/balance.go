package iso8583

// BalanceSize is the length of one field 54 block.
const BalanceSize = 20

// maxBalance is the largest amount 12 digits hold.
const maxBalance = 999999999999

// Balance is one field 54 block: account type ("10" campus account, "20"
// small wallet), amount type ("02" available balance), currency ("156")
// and a signed amount in fen (sign C for ≥ 0, D for < 0 on the wire).
type Balance struct {
	Account  [2]byte
	Type     [2]byte
	Currency [3]byte
	Amount   int64
}

// AppendBalance appends b as a 20-character block. An amount beyond 12
// digits (over ten thousand million yuan) cannot be written; it is
// saturated at 999999999999 rather than wrapped into a wrong small figure.
func AppendBalance(dst []byte, b Balance) []byte {
	dst = append(dst, b.Account[:]...)
	dst = append(dst, b.Type[:]...)
	dst = append(dst, b.Currency[:]...)
	a := b.Amount
	sign := byte('C')
	var mag uint64
	if a < 0 {
		sign = 'D'
		mag = uint64(-(a + 1)) + 1 // no overflow at math.MinInt64
	} else {
		mag = uint64(a)
	}
	mag = min(mag, maxBalance)
	dst = append(dst, sign)
	var d [12]byte
	putDigits(d[:], mag)
	return append(dst, d[:]...)
}

// ParseBalances appends the blocks of a field 54 value to out. Types and
// currency must be digits, the sign C or D, the amount 12 digits. Errors
// are *FieldError for field 54 with Offset inside v.
func ParseBalances(v []byte, out []Balance) ([]Balance, error) {
	if len(v)%BalanceSize != 0 {
		return out, fieldErr(54, len(v)-len(v)%BalanceSize, ErrShort)
	}
	for off := 0; off < len(v); off += BalanceSize {
		blk := v[off : off+BalanceSize]
		if i := allDigits(blk[:7]); i >= 0 {
			return out, fieldErr(54, off+i, ErrBadCharset)
		}
		if i := allDigits(blk[8:]); i >= 0 {
			return out, fieldErr(54, off+8+i, ErrBadCharset)
		}
		var b Balance
		copy(b.Account[:], blk[0:2])
		copy(b.Type[:], blk[2:4])
		copy(b.Currency[:], blk[4:7])
		for _, c := range blk[8:] {
			b.Amount = b.Amount*10 + int64(c-'0')
		}
		switch blk[7] {
		case 'C':
		case 'D':
			b.Amount = -b.Amount
		default:
			return out, fieldErr(54, off+7, ErrBadCharset)
		}
		out = append(out, b)
	}
	return out, nil
}
