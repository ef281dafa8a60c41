package mac

import (
	"crypto/cipher"
	"crypto/subtle"
)

const hexUpper = "0123456789ABCDEF"

// Key is a MAC key with its cipher schedule prepared, so that MACing many
// messages under one session key costs no allocation. A Key is not safe for
// concurrent use: it keeps its scratch block inside itself (a stack buffer
// would escape through the cipher.Block interface and cost an allocation
// per MAC).
type Key struct {
	block   cipher.Block
	key     [24]byte
	keyLen  int
	scratch [16]byte
}

// NewKey prepares mak (8 bytes DES, or 16/24 bytes 3DES).
func NewKey(mak []byte) (*Key, error) {
	k := &Key{}
	if err := k.Reset(mak); err != nil {
		return nil, err
	}
	return k, nil
}

// Reset re-keys k with mak unless k already holds that key, in which case
// the prepared schedule is kept.
func (k *Key) Reset(mak []byte) error {
	if k.Matches(mak) {
		return nil
	}
	b, err := newBlock(mak)
	if err != nil {
		return err
	}
	k.block = b
	k.keyLen = copy(k.key[:], mak)
	return nil
}

// CopyFrom makes k hold src's key, sharing its prepared schedule (the
// cipher is only read when MACing, so many Keys can share one): how a
// per-worker Key takes a session's key without preparing it again.
func (k *Key) CopyFrom(src *Key) {
	k.block, k.key, k.keyLen = src.block, src.key, src.keyLen
}

// Matches reports whether k was prepared from mak.
func (k *Key) Matches(mak []byte) bool {
	return k.block != nil && len(mak) == k.keyLen &&
		subtle.ConstantTimeCompare(k.key[:k.keyLen], mak) == 1
}

// ECB computes the UnionPay "ECB" MAC of mab: XOR the MAB in 8-byte blocks
// (the last one padded with zeros), write the result as 16 upper-case hex
// characters, encrypt the first 8 characters, XOR with the last 8,
// encrypt again, and keep the first 8 upper-case hex characters of the
// result. The returned bytes are those 8 ASCII characters: field 64 as sent.
func (k *Key) ECB(mab []byte) [8]byte {
	var x [8]byte
	for len(mab) >= 8 {
		for i := range 8 {
			x[i] ^= mab[i]
		}
		mab = mab[8:]
	}
	for i, c := range mab {
		x[i] ^= c
	}
	h := &k.scratch
	for i, c := range x {
		h[2*i] = hexUpper[c>>4]
		h[2*i+1] = hexUpper[c&0x0F]
	}
	k.block.Encrypt(h[:8], h[:8])
	for i := range 8 {
		h[i] ^= h[8+i]
	}
	k.block.Encrypt(h[:8], h[:8])
	var out [8]byte
	for i := range 4 {
		out[2*i] = hexUpper[h[i]>>4]
		out[2*i+1] = hexUpper[h[i]&0x0F]
	}
	clear(h[:])
	return out
}

// ECB computes the UnionPay ECB MAC of mab under mak (8 bytes DES, 16/24
// bytes 3DES). A key of any other length yields all zero bytes, which can
// never equal a real MAC (those are hex characters), so a bad key fails
// the MAC check rather than passing it. Callers MACing in a hot loop keep
// a Key instead.
func ECB(mak []byte, mab []byte) [8]byte {
	var k Key
	if err := k.Reset(mak); err != nil {
		return [8]byte{}
	}
	return k.ECB(mab)
}

// Equal compares two MACs in constant time (for equal lengths).
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
