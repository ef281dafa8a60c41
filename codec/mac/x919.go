package mac

// X919 computes the ANSI X9.19 retail MAC of data under a 16-byte
// double-length key K1‖K2: DES-CBC under K1 with a zero IV over the data
// padded with zero bytes to whole 8-byte blocks (an empty input is one
// zero block), the last block's output then decrypted under K2 and
// encrypted under K1 again. It is ISO/IEC 9797-1:2011 MAC algorithm 3
// with padding method 1 and DES as the block cipher; the result is the
// whole 64-bit MAC, which is field 64 as sent when the session MAK is
// double length.
//
// Unlike the UnionPay ECB MAC, whose value depends only on the XOR of the
// message's blocks (so two messages with the same XOR share a MAC), each
// block here goes through the cipher chained to the ones before it, and
// recovering the key by exhaustive search costs about 2^112 DES
// operations rather than 2^56.
//
// A key of any other length fails with ErrKeySize.
func X919(mak, data []byte) ([8]byte, error) {
	var k Key
	if err := k.reset(mak, AlgX919); err != nil {
		return [8]byte{}, err
	}
	return k.x919(data), nil
}

// x919 is X919 under k's prepared schedules: k1 is DES under K1, block is
// 3DES under K1 K2 K1, whose encryption of the last chained block is
// E(K1, D(K2, E(K1, ·))), the chain's last step followed by the final
// transformation.
func (k *Key) x919(data []byte) [8]byte {
	h := k.scratch[:8]
	clear(h)
	for len(data) > 8 {
		for i := range 8 {
			h[i] ^= data[i]
		}
		k.k1.Encrypt(h, h)
		data = data[8:]
	}
	for i, c := range data {
		h[i] ^= c
	}
	k.block.Encrypt(h, h)
	var out [8]byte
	copy(out[:], h)
	clear(k.scratch[:])
	return out
}
