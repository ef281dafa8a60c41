package mac

import (
	"crypto/cipher"
	"crypto/des"
)

// newBlock returns single DES for an 8-byte key and 3DES for 16 (K1 K2 K1)
// or 24 bytes. The spec's MAK is single DES; 3DES serves key wrapping,
// check values and the final step of X9.19 under a double-length MAK.
func newBlock(key []byte) (cipher.Block, error) {
	switch len(key) {
	case 8:
		return des.NewCipher(key)
	case 16:
		var k [24]byte
		copy(k[:], key)
		copy(k[16:], key[:8])
		return des.NewTripleDESCipher(k[:])
	case 24:
		return des.NewTripleDESCipher(key)
	default:
		return nil, ErrKeySize
	}
}
