package pboc

import (
	"crypto/cipher"
	"crypto/des"
)

// tdes builds a two-key 3DES block cipher (K1 K2 K1). The key length is
// fixed by the type, so construction cannot fail.
func tdes(k [16]byte) cipher.Block {
	var k24 [24]byte
	copy(k24[:], k[:])
	copy(k24[16:], k[:8])
	b, err := des.NewTripleDESCipher(k24[:])
	if err != nil {
		panic("pboc: 3DES with a 24-byte key: " + err.Error())
	}
	return b
}

// sdes builds a single-DES block cipher; the session key is used as one.
func sdes(k [8]byte) cipher.Block {
	b, err := des.NewCipher(k[:])
	if err != nil {
		panic("pboc: DES with an 8-byte key: " + err.Error())
	}
	return b
}
