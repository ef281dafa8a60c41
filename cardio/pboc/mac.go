package pboc

import (
	"crypto/subtle"
	"encoding/binary"
)

// TypeLoad is the transaction type byte of a load in MACs and log records.
const TypeLoad = 0x02

// TypePurchase is the transaction type byte of a purchase in log records.
const TypePurchase = 0x06

// MAC computes the card MAC: data padded with 80 then 00 to a multiple of
// 8 bytes, DES-CBC with a zero IV under k, first 4 bytes of the last block.
// The 80 is always appended, even to data already a multiple of 8, so two
// inputs that differ only in trailing zeros never share a MAC.
func MAC(k [8]byte, data []byte) [4]byte {
	c := sdes(k)
	var blk [8]byte
	var out [4]byte
	n := 0
	for _, b := range data {
		blk[n] ^= b
		n++
		if n == 8 {
			c.Encrypt(blk[:], blk[:])
			n = 0
		}
	}
	blk[n] ^= 0x80
	c.Encrypt(blk[:], blk[:])
	copy(out[:], blk[:4])
	return out
}

// MAC1 is the card's MAC over INITIALIZE FOR LOAD: balance before (4) ‖
// amount (4) ‖ type 02 ‖ terminal number (6).
func MAC1(sk [8]byte, balanceBefore, amount uint32, termID [6]byte) [4]byte {
	var b [15]byte
	binary.BigEndian.PutUint32(b[0:4], balanceBefore)
	binary.BigEndian.PutUint32(b[4:8], amount)
	b[8] = TypeLoad
	copy(b[9:], termID[:])
	return MAC(sk, b[:])
}

// MAC2 is the gateway's authorisation of CREDIT FOR LOAD: amount (4) ‖
// type 02 ‖ terminal number (6) ‖ date (4) ‖ time (3), the date and time
// being the BCD YYYYMMDDhhmmss the terminal gives the card.
func MAC2(sk [8]byte, amount uint32, termID [6]byte, dateTime [7]byte) [4]byte {
	var b [18]byte
	binary.BigEndian.PutUint32(b[0:4], amount)
	b[4] = TypeLoad
	copy(b[5:11], termID[:])
	copy(b[11:], dateTime[:])
	return MAC(sk, b[:])
}

// TAC is what the card returns after a successful CREDIT FOR LOAD. The
// specification leaves its key and input open; this project's convention
// (followed by the virtual card and checked by tests) is
// MAC(session key, new balance (4) ‖ online counter used by the load (2) ‖
// amount (4) ‖ type 02 ‖ terminal number (6) ‖ date and time (7)).
// The counter is the value before the card increments it, the same one
// the session key was derived from.
func TAC(sk [8]byte, newBalance uint32, counter uint16, amount uint32, termID [6]byte, dateTime [7]byte) [4]byte {
	var b [24]byte
	binary.BigEndian.PutUint32(b[0:4], newBalance)
	binary.BigEndian.PutUint16(b[4:6], counter)
	binary.BigEndian.PutUint32(b[6:10], amount)
	b[10] = TypeLoad
	copy(b[11:17], termID[:])
	copy(b[17:], dateTime[:])
	return MAC(sk, b[:])
}

// Equal compares two MACs in constant time, so a terminal probing MAC1
// values learns nothing from the gateway's response time.
func Equal(a, b [4]byte) bool {
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
