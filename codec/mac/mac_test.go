package mac_test

import (
	"crypto/des"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/mac"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// unionPayECB is the spec's algorithm written out step by step with
// crypto/des, independent of the package's implementation.
func unionPayECB(t *testing.T, key, mab []byte) []byte {
	t.Helper()
	// 1. XOR the MAB in 8-byte blocks, the last one padded with 00.
	padded := append([]byte(nil), mab...)
	for len(padded)%8 != 0 {
		padded = append(padded, 0)
	}
	x := make([]byte, 8)
	for i := 0; i < len(padded); i += 8 {
		for j := range 8 {
			x[j] ^= padded[i+j]
		}
	}
	// 2. 16 upper-case hex characters.
	h := []byte(strings.ToUpper(hex.EncodeToString(x)))
	require.Len(t, h, 16)
	// 3. DES-encrypt the first 8 characters under the MAK.
	var blk interface{ Encrypt(dst, src []byte) }
	if len(key) == 8 {
		c, err := des.NewCipher(key)
		require.NoError(t, err)
		blk = c
	} else {
		k := append(append([]byte(nil), key...), key[:8]...)
		c, err := des.NewTripleDESCipher(k)
		require.NoError(t, err)
		blk = c
	}
	e1 := make([]byte, 8)
	blk.Encrypt(e1, h[:8])
	// 4. XOR with the last 8 characters.
	for j := range 8 {
		e1[j] ^= h[8+j]
	}
	// 5. DES-encrypt again.
	e2 := make([]byte, 8)
	blk.Encrypt(e2, e1)
	// 6. 16 upper-case hex characters; field 64 is the first 8.
	return []byte(strings.ToUpper(hex.EncodeToString(e2))[:8])
}

func TestECBMatchesStepByStep(t *testing.T) {
	mak := mustHex(t, "0123456789ABCDEF")
	mak3 := mustHex(t, "0123456789ABCDEFFEDCBA9876543210")
	cases := map[string][]byte{
		"empty":         {},
		"one byte":      {0x02},
		"one block":     mustHex(t, "0200702406C020C09A11"),
		"uneven blocks": mustHex(t, "02007024058020C08211166217000000000001230000000000000012500000011430151126071000"),
		"exact 3":       mustHex(t, "000102030405060708090A0B0C0D0E0F1011121314151617"),
	}
	for name, mab := range cases {
		t.Run(name, func(t *testing.T) {
			got := mac.ECB(mak, mab)
			require.Equal(t, unionPayECB(t, mak, mab), got[:])
			for _, c := range got {
				require.Contains(t, "0123456789ABCDEF", string(c))
			}
			got3 := mac.ECB(mak3, mab)
			require.Equal(t, unionPayECB(t, mak3, mab), got3[:])
			require.NotEqual(t, got, got3)
		})
	}
}

func TestECBChangesWithEveryByte(t *testing.T) {
	mak := mustHex(t, "1122334455667788")
	mab := mustHex(t, "02007024058020C08211")
	base := mac.ECB(mak, mab)
	for i := range mab {
		m := append([]byte(nil), mab...)
		m[i] ^= 0x01
		got := mac.ECB(mak, m)
		require.NotEqual(t, base, got, "byte %d", i)
	}
}

func TestECBBadKeyNeverMatches(t *testing.T) {
	for _, n := range []int{0, 7, 9, 15, 32} {
		got := mac.ECB(make([]byte, n), []byte("data"))
		require.Equal(t, [8]byte{}, got, "key length %d", n)
	}
	_, err := mac.NewKey(make([]byte, 5))
	require.ErrorIs(t, err, mac.ErrKeySize)
}

func TestKeyReuse(t *testing.T) {
	a := mustHex(t, "0123456789ABCDEF")
	b := mustHex(t, "FEDCBA9876543210")
	k, err := mac.NewKey(a)
	require.NoError(t, err)
	require.True(t, k.Matches(a))
	require.False(t, k.Matches(b))
	mab := []byte("0200 message authentication block")
	require.Equal(t, mac.ECB(a, mab), k.ECB(mab))
	require.NoError(t, k.Reset(b))
	require.True(t, k.Matches(b))
	require.Equal(t, mac.ECB(b, mab), k.ECB(mab))
	require.ErrorIs(t, k.Reset(nil), mac.ErrKeySize)
	require.True(t, k.Matches(b), "a failed re-key keeps the old key")
}

func TestKeyECBAllocatesNothing(t *testing.T) {
	k, err := mac.NewKey(mustHex(t, "0123456789ABCDEF"))
	require.NoError(t, err)
	mab := make([]byte, 200)
	allocs := testing.AllocsPerRun(100, func() {
		_ = k.ECB(mab)
	})
	require.Zero(t, allocs)
}

func TestEqual(t *testing.T) {
	require.True(t, mac.Equal([]byte("12345678"), []byte("12345678")))
	require.False(t, mac.Equal([]byte("12345678"), []byte("12345679")))
	require.False(t, mac.Equal([]byte("1234567"), []byte("12345678")))
	require.True(t, mac.Equal(nil, []byte{}))
}

func TestWrapRoundTrip(t *testing.T) {
	kek := mustHex(t, "0123456789ABCDEFFEDCBA9876543210")
	for _, n := range []int{8, 16, 24} {
		clear := make([]byte, n)
		for i := range clear {
			clear[i] = byte(i*37 + n)
		}
		enc, err := mac.Wrap(kek, clear)
		require.NoError(t, err)
		require.Len(t, enc, n)
		require.NotEqual(t, clear, enc)
		// Independent: 2-key 3DES is K1 K2 K1 per 8-byte block.
		c, err := des.NewTripleDESCipher(append(append([]byte(nil), kek...), kek[:8]...))
		require.NoError(t, err)
		want := make([]byte, n)
		for i := 0; i < n; i += 8 {
			c.Encrypt(want[i:i+8], clear[i:i+8])
		}
		require.Equal(t, want, enc)
		back, err := mac.Unwrap(kek, enc)
		require.NoError(t, err)
		require.Equal(t, clear, back)
	}
}

func TestWrapRejects(t *testing.T) {
	kek := make([]byte, 16)
	cases := []struct {
		name string
		kek  []byte
		data []byte
		want error
	}{
		{"kek 8 bytes", make([]byte, 8), make([]byte, 8), mac.ErrKeySize},
		{"kek 24 bytes", make([]byte, 24), make([]byte, 8), mac.ErrKeySize},
		{"empty data", kek, nil, mac.ErrBlockSize},
		{"partial block", kek, make([]byte, 12), mac.ErrBlockSize},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mac.Wrap(tc.kek, tc.data)
			require.ErrorIs(t, err, tc.want)
			_, err = mac.Unwrap(tc.kek, tc.data)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestCheckValue(t *testing.T) {
	// Double-length key K1 K2 = 0123456789ABCDEF FEDCBA9876543210: the
	// check value is the first 4 bytes of 3DES(K1 K2 K1, 0^8).
	key := mustHex(t, "0123456789ABCDEFFEDCBA9876543210")
	c, err := des.NewTripleDESCipher(append(append([]byte(nil), key...), key[:8]...))
	require.NoError(t, err)
	var zero, want [8]byte
	c.Encrypt(want[:], zero[:])
	got := mac.CheckValue(key)
	require.Equal(t, want[:4], got[:])
	// With K1 == K2 3DES degenerates to single DES: a cross-check that the
	// key is expanded as K1 K2 K1.
	k1 := mustHex(t, "0123456789ABCDEF")
	s, err := des.NewCipher(k1)
	require.NoError(t, err)
	s.Encrypt(want[:], zero[:])
	double := mac.CheckValue(append(append([]byte(nil), k1...), k1...))
	single := mac.CheckValue(k1)
	require.Equal(t, want[:4], single[:])
	// Published DES known answer: E(0123456789ABCDEF, 0^8) = D5D44FF720683D0D.
	require.Equal(t, mustHex(t, "D5D44FF7"), single[:])
	require.Equal(t, single, double)
	require.Equal(t, [4]byte{}, mac.CheckValue(make([]byte, 10)))
}
