package mac_test

import (
	"crypto/des"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/mac"
)

// TestX919PublishedVectors checks the retail MAC against published values.
// ISO/IEC 9797-1:2011 Annex B.4 (MAC algorithm 3, padding method 1, DES,
// K = 0123456789ABCDEF, K' = FEDCBA9876543210) gives the first 32 bits;
// the BouncyCastle test suite (ISO9797Alg3MacTest) gives all 64 for its
// key. The remaining 32 bits of the Annex B values were computed with
// OpenSSL, independently of this package: DES-CBC under K with a zero IV
// over all blocks but the last, then des-ede-cbc under K‖K' on the last
// block with the previous step's output as IV.
func TestX919PublishedVectors(t *testing.T) {
	cases := []struct {
		name, key, data, mac string
	}{
		{"ISO 9797-1 B.4, 3 blocks", "0123456789ABCDEFFEDCBA9876543210", "Now is the time for all ", "A1C72E74EA3FA9B6"},
		{"ISO 9797-1 B.4, padded", "0123456789ABCDEFFEDCBA9876543210", "Now is the time for it", "2E2B1428CC78254F"},
		{"BouncyCastle ISO9797Alg3MacTest", "7CA110454A1A6E570131D9619DC1376E", "Hello World !!!!", "F09B856213BAB83B"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := mustHex(t, tc.key)
			got, err := mac.X919(key, []byte(tc.data))
			require.NoError(t, err)
			require.Equal(t, mustHex(t, tc.mac), got[:])

			k, err := mac.NewMAK(key)
			require.NoError(t, err)
			require.Equal(t, mac.AlgX919, k.Alg())
			require.Equal(t, got, k.Sum([]byte(tc.data)))
			sum, err := mac.Sum(key, []byte(tc.data))
			require.NoError(t, err)
			require.Equal(t, got, sum)
		})
	}
}

// retailMAC is ANSI X9.19 written out with crypto/des, independent of the
// package: CBC-MAC under K1 (zero IV, zero padding), then the last output
// decrypted under K2 and encrypted under K1 again.
func retailMAC(t *testing.T, key, data []byte) []byte {
	t.Helper()
	k1, err := des.NewCipher(key[:8])
	require.NoError(t, err)
	k2, err := des.NewCipher(key[8:16])
	require.NoError(t, err)
	padded := append([]byte(nil), data...)
	for len(padded) == 0 || len(padded)%8 != 0 {
		padded = append(padded, 0)
	}
	h := make([]byte, 8)
	for i := 0; i < len(padded); i += 8 {
		for j := range 8 {
			h[j] ^= padded[i+j]
		}
		k1.Encrypt(h, h)
	}
	k2.Decrypt(h, h)
	k1.Encrypt(h, h)
	return h
}

func TestX919MatchesStepByStep(t *testing.T) {
	key := mustHex(t, "89ABCDEF0123456701234567FEDCBA98")
	for n := range 40 {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*29 + n)
		}
		got, err := mac.X919(key, data)
		require.NoError(t, err)
		require.Equal(t, retailMAC(t, key, data), got[:], "%d bytes", n)
	}
	// With K1 == K2 the final step cancels out: single-DES CBC-MAC, the
	// FIPS 113 value for "Now is the time for all " under 0123456789ABCDEF.
	same := mustHex(t, "0123456789ABCDEF0123456789ABCDEF")
	got, err := mac.X919(same, []byte("Now is the time for all "))
	require.NoError(t, err)
	require.Equal(t, mustHex(t, "70A30640CC76DD8B"), got[:])
}

func TestX919ChangesWithEveryByteAndBlockOrder(t *testing.T) {
	key := mustHex(t, "0123456789ABCDEFFEDCBA9876543210")
	mab := mustHex(t, "02007024058020C0821112200001234567000000")
	base, err := mac.X919(key, mab)
	require.NoError(t, err)
	for i := range mab {
		m := append([]byte(nil), mab...)
		m[i] ^= 0x01
		got, err := mac.X919(key, m)
		require.NoError(t, err)
		require.NotEqual(t, base, got, "byte %d", i)
	}
	// Unlike the UnionPay ECB MAC, which depends only on the XOR of the
	// blocks, swapping two blocks changes the retail MAC.
	swapped := append(append(append([]byte(nil), mab[8:16]...), mab[:8]...), mab[16:]...)
	got, err := mac.X919(key, swapped)
	require.NoError(t, err)
	require.NotEqual(t, base, got)
	e1, e2 := mac.ECB(key, mab), mac.ECB(key, swapped)
	require.Equal(t, e1, e2, "the ECB MAC cannot tell (why the double-length MAK uses X9.19)")
}

func TestMAKChoosesAlgorithmByLength(t *testing.T) {
	mab := []byte("0200 message authentication block")
	single := mustHex(t, "0123456789ABCDEF")
	double := mustHex(t, "0123456789ABCDEFFEDCBA9876543210")

	k, err := mac.NewMAK(single)
	require.NoError(t, err)
	require.Equal(t, mac.AlgECB, k.Alg())
	require.Equal(t, mac.ECB(single, mab), k.Sum(mab), "8 bytes: the UnionPay ECB MAC, unchanged")
	sum, err := mac.Sum(single, mab)
	require.NoError(t, err)
	require.Equal(t, mac.ECB(single, mab), sum)

	require.NoError(t, k.ResetMAK(double))
	require.Equal(t, mac.AlgX919, k.Alg())
	x, err := mac.X919(double, mab)
	require.NoError(t, err)
	require.Equal(t, x, k.Sum(mab), "16 bytes: ANSI X9.19")

	// Reset keeps its meaning (the ECB MAC under any DES or 3DES key),
	// also for the very key bytes just prepared for X9.19.
	require.NoError(t, k.Reset(double))
	require.Equal(t, mac.AlgECB, k.Alg())
	require.Equal(t, mac.ECB(double, mab), k.Sum(mab))
	require.NoError(t, k.ResetMAK(double))
	require.Equal(t, x, k.Sum(mab))

	// A borrowed key takes the algorithm with the schedule.
	var w mac.Key
	w.CopyFrom(k)
	require.Equal(t, mac.AlgX919, w.Alg())
	require.Equal(t, x, w.Sum(mab))

	for _, n := range []int{0, 7, 9, 15, 24, 32} {
		_, err := mac.NewMAK(make([]byte, n))
		require.ErrorIs(t, err, mac.ErrKeySize, "%d bytes", n)
		_, err = mac.Sum(make([]byte, n), mab)
		require.ErrorIs(t, err, mac.ErrKeySize, "%d bytes", n)
		_, err = mac.X919(make([]byte, n), mab)
		require.ErrorIs(t, err, mac.ErrKeySize, "%d bytes", n)
	}
	_, err = mac.X919(single, mab)
	require.ErrorIs(t, err, mac.ErrKeySize, "X9.19 needs a double-length key")
	require.Equal(t, mac.AlgX919, k.Alg(), "a failed re-key keeps the old key")
	require.Error(t, k.ResetMAK(make([]byte, 24)))
	require.Equal(t, x, k.Sum(mab))
}

func TestKeyX919AllocatesNothing(t *testing.T) {
	k, err := mac.NewMAK(mustHex(t, "0123456789ABCDEFFEDCBA9876543210"))
	require.NoError(t, err)
	mab := make([]byte, 200)
	allocs := testing.AllocsPerRun(100, func() {
		_ = k.Sum(mab)
	})
	require.Zero(t, allocs)
}
