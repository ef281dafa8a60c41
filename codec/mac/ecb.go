package mac

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/subtle"
)

const hexUpper = "0123456789ABCDEF"

// Alg is the MAC algorithm a Key computes (Key.Sum).
type Alg uint8

const (
	// AlgECB is the UnionPay "ECB" MAC (Key.ECB): the spec's algorithm,
	// and the one of every 8-byte (single DES) session MAK.
	AlgECB Alg = iota + 1
	// AlgX919 is the ANSI X9.19 retail MAC (X919): the algorithm of a
	// 16-byte (double-length, 3DES) session MAK.
	AlgX919
)

// Key is a MAC key with its cipher schedule prepared, so that MACing many
// messages under one session key costs no allocation. A Key is not safe for
// concurrent use: it keeps its scratch block inside itself (a stack buffer
// would escape through the cipher.Block interface and cost an allocation
// per MAC).
type Key struct {
	block   cipher.Block // DES or 3DES under the whole key (X9.19: its final step)
	k1      cipher.Block // X9.19 only: DES under the key's left half (the CBC chain)
	alg     Alg
	key     [24]byte
	keyLen  int
	scratch [16]byte
}

// NewKey prepares mak (8 bytes DES, or 16/24 bytes 3DES) for the UnionPay
// ECB MAC.
func NewKey(mak []byte) (*Key, error) {
	k := &Key{}
	if err := k.Reset(mak); err != nil {
		return nil, err
	}
	return k, nil
}

// NewMAK prepares a session MAK for the POS protocol's MAC, which its
// length selects (ResetMAK): 8 bytes, the UnionPay ECB MAC under single
// DES; 16 bytes, the ANSI X9.19 retail MAC.
func NewMAK(mak []byte) (*Key, error) {
	k := &Key{}
	if err := k.ResetMAK(mak); err != nil {
		return nil, err
	}
	return k, nil
}

// Reset re-keys k with mak for the UnionPay ECB MAC unless k already holds
// that key for it, in which case the prepared schedule is kept. On error k
// keeps its old key.
func (k *Key) Reset(mak []byte) error {
	return k.reset(mak, AlgECB)
}

// ResetMAK re-keys k with a session MAK, the MAC algorithm chosen by the
// key's length: 8 bytes (the spec's single-DES MAK) the UnionPay ECB MAC,
// 16 bytes (a double-length MAK) ANSI X9.19. Any other length fails with
// ErrKeySize and k keeps its old key.
func (k *Key) ResetMAK(mak []byte) error {
	switch len(mak) {
	case 8:
		return k.reset(mak, AlgECB)
	case 16:
		return k.reset(mak, AlgX919)
	}
	return ErrKeySize
}

func (k *Key) reset(mak []byte, alg Alg) error {
	if k.alg == alg && k.Matches(mak) {
		return nil
	}
	if alg == AlgX919 && len(mak) != 16 {
		return ErrKeySize
	}
	b, err := newBlock(mak)
	if err != nil {
		return err
	}
	var k1 cipher.Block
	if alg == AlgX919 {
		if k1, err = des.NewCipher(mak[:8]); err != nil {
			return err
		}
	}
	k.block, k.k1, k.alg = b, k1, alg
	k.keyLen = copy(k.key[:], mak)
	return nil
}

// CopyFrom makes k hold src's key and algorithm, sharing its prepared
// schedule (the ciphers are only read when MACing, so many Keys can share
// them): how a per-worker Key takes a session's key without preparing it
// again.
func (k *Key) CopyFrom(src *Key) {
	k.block, k.k1, k.alg, k.key, k.keyLen = src.block, src.k1, src.alg, src.key, src.keyLen
}

// Alg reports the algorithm Sum computes (0 for a Key never prepared).
func (k *Key) Alg() Alg { return k.alg }

// Sum computes field 64 of a message whose MAB is mab, with the algorithm
// k was prepared for: the 8 ASCII hex characters of the UnionPay ECB MAC
// (AlgECB), or the 8 bytes of the ANSI X9.19 MAC (AlgX919).
func (k *Key) Sum(mab []byte) [8]byte {
	if k.alg == AlgX919 {
		return k.x919(mab)
	}
	return k.ECB(mab)
}

// Sum computes field 64 of mab under a session MAK (8 bytes: UnionPay
// ECB; 16 bytes: ANSI X9.19; see Key.ResetMAK). Callers MACing in a hot
// loop keep a Key instead.
func Sum(mak, mab []byte) ([8]byte, error) {
	var k Key
	if err := k.ResetMAK(mak); err != nil {
		return [8]byte{}, err
	}
	return k.Sum(mab), nil
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
