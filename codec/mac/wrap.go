package mac

import (
	"crypto/des"
)

// Wrap encrypts clear key material under kek with 3DES-ECB, the way sign-in
// sends working keys: kek is a 16-byte double-length key (K1 K2 K1).
func Wrap(kek, clear []byte) ([]byte, error) {
	return ecb3(kek, clear, true)
}

// Unwrap reverses Wrap.
func Unwrap(kek, enc []byte) ([]byte, error) {
	return ecb3(kek, enc, false)
}

func ecb3(kek, in []byte, encrypt bool) ([]byte, error) {
	if len(kek) != 16 {
		return nil, ErrKeySize
	}
	if len(in) == 0 || len(in)%des.BlockSize != 0 {
		return nil, ErrBlockSize
	}
	b, err := newBlock(kek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(in))
	for i := 0; i < len(in); i += des.BlockSize {
		if encrypt {
			b.Encrypt(out[i:i+des.BlockSize], in[i:i+des.BlockSize])
		} else {
			b.Decrypt(out[i:i+des.BlockSize], in[i:i+des.BlockSize])
		}
	}
	return out, nil
}

// CheckValue is the key check value terminals compare after sign-in: the
// first 4 bytes of the key encrypting 8 zero bytes. key is 8, 16 or 24
// bytes; any other length yields zeros (no real key is judged by it).
func CheckValue(key []byte) [4]byte {
	var cv [4]byte
	b, err := newBlock(key)
	if err != nil {
		return cv
	}
	var blk [8]byte
	b.Encrypt(blk[:], blk[:])
	copy(cv[:], blk[:4])
	return cv
}
