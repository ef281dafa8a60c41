package pboc

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The expected values below are computed with crypto/des and crypto/cipher
// directly from the formulas in spec/card.md, not through the package's
// helpers, so a mistake in one path shows up as a mismatch.

func h(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

var (
	testMaster = [16]byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00}
	testSerial = []byte{0x10, 0x00, 0x20, 0x26, 0x01, 0x23, 0x45, 0x67, 0x89, 0x01}
	testTerm   = [6]byte{0x00, 0x00, 0x12, 0x34, 0x56, 0x78}
	testRandom = [4]byte{0xDE, 0xAD, 0xBE, 0xEF}
	testDT     = [7]byte{0x20, 0x26, 0x11, 0x26, 0x08, 0x30, 0x15}
)

func refEDE(t *testing.T, k16, in []byte) []byte {
	t.Helper()
	k24 := append(append([]byte{}, k16...), k16[:8]...)
	c, err := des.NewTripleDESCipher(k24)
	require.NoError(t, err)
	out := make([]byte, 8)
	c.Encrypt(out, in)
	return out
}

func refMAC(t *testing.T, k, data []byte) []byte {
	t.Helper()
	p := append(append([]byte{}, data...), 0x80)
	for len(p)%8 != 0 {
		p = append(p, 0)
	}
	c, err := des.NewCipher(k)
	require.NoError(t, err)
	out := make([]byte, len(p))
	cipher.NewCBCEncrypter(c, make([]byte, 8)).CryptBlocks(out, p)
	return out[len(out)-8 : len(out)-4]
}

func refSession(t *testing.T) (cardKey, sk []byte) {
	t.Helper()
	last8 := testSerial[2:]
	inv := make([]byte, 8)
	for i := range last8 {
		inv[i] = 0xFF - last8[i]
	}
	cardKey = append(refEDE(t, testMaster[:], last8), refEDE(t, testMaster[:], inv)...)
	in := append(append([]byte{}, testRandom[:]...), 0x00, 0x07, 0x80, 0x00)
	return cardKey, refEDE(t, cardKey, in)
}

func TestDESKnownAnswer(t *testing.T) {
	// Anchor the reference path itself on the classic DES example.
	c, err := des.NewCipher(h(t, "133457799BBCDFF1"))
	require.NoError(t, err)
	out := make([]byte, 8)
	c.Encrypt(out, h(t, "0123456789ABCDEF"))
	require.Equal(t, h(t, "85E813540F0AB405"), out)
}

func TestDeriveCardKey(t *testing.T) {
	want, _ := refSession(t)
	got, err := DeriveCardKey(testMaster, testSerial)
	require.NoError(t, err)
	require.Equal(t, want, got[:])

	other := bytes.Clone(testSerial)
	other[9] ^= 0x01
	got2, err := DeriveCardKey(testMaster, other)
	require.NoError(t, err)
	require.NotEqual(t, got, got2)

	// Only the last 8 bytes take part, as the specification says.
	prefix := bytes.Clone(testSerial)
	prefix[0] = 0x99
	got3, err := DeriveCardKey(testMaster, prefix)
	require.NoError(t, err)
	require.Equal(t, got, got3)
}

func TestDeriveCardKeyBadSerial(t *testing.T) {
	for _, n := range []int{0, 8, 9, 11} {
		_, err := DeriveCardKey(testMaster, make([]byte, n))
		require.ErrorIs(t, err, ErrSerialLength, "len %d", n)
	}
}

func TestSessionKey(t *testing.T) {
	cardKey, want := refSession(t)
	var ck [16]byte
	copy(ck[:], cardKey)
	got := SessionKey(ck, testRandom, 7)
	require.Equal(t, want, got[:])
	require.NotEqual(t, got, SessionKey(ck, testRandom, 8))
}

func TestMAC(t *testing.T) {
	k := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 23} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*37 + 5)
		}
		got := MAC(k, data)
		require.Equal(t, refMAC(t, k[:], data), got[:], "len %d", n)
	}
	// Trailing zero bytes change the MAC because 80 is always appended.
	require.NotEqual(t, MAC(k, []byte{1}), MAC(k, []byte{1, 0}))
}

func TestMAC1MAC2TAC(t *testing.T) {
	_, skb := refSession(t)
	var sk [8]byte
	copy(sk[:], skb)

	m1 := h(t, "000001F4"+"00000064"+"02"+"000012345678")
	got1 := MAC1(sk, 500, 100, testTerm)
	require.Equal(t, refMAC(t, skb, m1), got1[:])

	m2 := h(t, "00000064"+"02"+"000012345678"+"20261126083015")
	got2 := MAC2(sk, 100, testTerm, testDT)
	require.Equal(t, refMAC(t, skb, m2), got2[:])

	tac := h(t, "00000258"+"0007"+"00000064"+"02"+"000012345678"+"20261126083015")
	got3 := TAC(sk, 600, 7, 100, testTerm, testDT)
	require.Equal(t, refMAC(t, skb, tac), got3[:])

	require.True(t, Equal(got1, got1))
	require.False(t, Equal(got1, got2))
}

func TestDateTime(t *testing.T) {
	at := time.Date(2026, 11, 26, 8, 30, 15, 0, time.UTC)
	require.Equal(t, testDT, DateTime(at))
	back, err := ParseDateTime(testDT, time.UTC)
	require.NoError(t, err)
	require.True(t, at.Equal(back))

	for name, b := range map[string][7]byte{
		"not BCD":     {0x20, 0x2A, 0x11, 0x26, 0, 0, 0},
		"31 February": {0x20, 0x26, 0x02, 0x31, 0, 0, 0},
		"hour 24":     {0x20, 0x26, 0x02, 0x01, 0x24, 0, 0},
		"month 0":     {0x20, 0x26, 0x00, 0x01, 0, 0, 0},
	} {
		_, err := ParseDateTime(b, time.UTC)
		require.ErrorIs(t, err, ErrBadDateTime, name)
	}
}

func BenchmarkMAC2(b *testing.B) {
	sk := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	b.ReportAllocs()
	for b.Loop() {
		MAC2(sk, 100, testTerm, testDT)
	}
}
