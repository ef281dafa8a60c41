package pboc

import "encoding/binary"

// SerialLen is the length of the application serial number (20 BCD digits).
const SerialLen = 10

// DeriveCardKey derives a card's load key from the master load key and the
// card's application serial number:
// left = 3DES-ECB(master, serial[last 8]), right = 3DES-ECB(master, NOT
// serial[last 8]), key = left ‖ right.
func DeriveCardKey(master [16]byte, serial []byte) ([16]byte, error) {
	var key [16]byte
	if len(serial) != SerialLen {
		return key, ErrSerialLength
	}
	var in, inv [8]byte
	copy(in[:], serial[SerialLen-8:])
	for i, b := range in {
		inv[i] = ^b
	}
	c := tdes(master)
	c.Encrypt(key[:8], in[:])
	c.Encrypt(key[8:], inv[:])
	return key, nil
}

// SessionKey derives the single-DES session key of one load:
// 3DES-ECB(card key, random ‖ online counter ‖ 80 00).
func SessionKey(cardKey [16]byte, random [4]byte, counter uint16) [8]byte {
	var in, sk [8]byte
	copy(in[:4], random[:])
	binary.BigEndian.PutUint16(in[4:6], counter)
	in[6] = 0x80
	tdes(cardKey).Encrypt(sk[:], in[:])
	return sk
}
