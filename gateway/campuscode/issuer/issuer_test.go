package issuer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"

	"github.com/stretchr/testify/require"
)

var (
	t0   = time.Unix(1767225600, 0).UTC()
	algs = []campuscode.Algorithm{campuscode.Ed25519, campuscode.SM2}
)

func TestKeySaveLoad(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			k, err := issuer.GenerateKey(alg, 77, nil)
			require.NoError(t, err)
			require.Len(t, k.PublicKey(), alg.KeyLen())
			path := filepath.Join(t.TempDir(), "issuer.key")
			require.NoError(t, k.Save(path))
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

			back, err := issuer.LoadKey(path)
			require.NoError(t, err)
			require.Equal(t, uint32(77), back.KeyID)
			require.Equal(t, alg, back.Alg())
			require.Equal(t, k.PublicKey(), back.PublicKey())
			require.Equal(t, k.IssuerKey(), back.IssuerKey())
		})
	}
}

func TestDeviceCodesVerify(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			k, err := issuer.GenerateKey(alg, 3, nil)
			require.NoError(t, err)
			d, err := issuer.NewDevice(k, k.KeyID, 20230001, t0.Add(-time.Hour), t0.Add(time.Hour), nil)
			require.NoError(t, err)
			require.Equal(t, uint32(3), d.KeyID())
			require.Equal(t, t0.Add(time.Hour), d.NotAfter())
			v, err := campuscode.NewVerifier(campuscode.Config{Algorithms: algs, Issuers: []campuscode.IssuerKey{k.IssuerKey()}, CacheSize: 4})
			require.NoError(t, err)

			for i := 1; i <= 3; i++ {
				text, err := d.Code(t0)
				require.NoError(t, err)
				require.True(t, strings.HasPrefix(text, "CC1:"))
				require.Len(t, text, 4+campuscode.Base45EncodedLen(campuscode.PayloadLen(alg.KeyLen())))
				res, err := v.Verify([]byte(text), t0)
				require.NoError(t, err)
				require.Equal(t, uint16(i), res.Counter)
				require.Equal(t, uint16(i), d.Counter)
				require.Equal(t, uint64(20230001), res.Account)
			}
		})
	}
}

func TestDeviceSaveLoadKeepsCounter(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			k, err := issuer.GenerateKey(alg, 1, nil)
			require.NoError(t, err)
			d, err := issuer.NewDevice(k, 1, 5, t0, t0.Add(time.Hour), nil)
			require.NoError(t, err)
			_, err = d.Code(t0)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "device")
			require.NoError(t, d.Save(path))
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

			back, err := issuer.LoadDevice(path)
			require.NoError(t, err)
			require.Equal(t, uint16(1), back.Counter)
			require.Equal(t, d.Cert, back.Cert)
			require.Equal(t, d.UserPublicKey(), back.UserPublicKey())
			require.Equal(t, alg, back.Alg())
		})
	}
}

func TestCertifyRejects(t *testing.T) {
	ed, err := issuer.GenerateKey(campuscode.Ed25519, 1, nil)
	require.NoError(t, err)
	sm, err := issuer.GenerateKey(campuscode.SM2, 2, nil)
	require.NoError(t, err)
	_, err = issuer.Certify(ed, 1, 1, t0, t0.Add(time.Hour), make([]byte, 33))
	require.ErrorIs(t, err, issuer.ErrKey)
	_, err = issuer.Certify(sm, 2, 1, t0, t0.Add(time.Hour), append([]byte{2}, bytes.Repeat([]byte{0xff}, 32)...))
	require.ErrorIs(t, err, issuer.ErrKey, "x >= p is not a coordinate")
	_, err = issuer.Certify(ed, 1, 1, t0, t0.Add(-time.Second), make([]byte, 32))
	require.ErrorIs(t, err, issuer.ErrValidity)
	_, err = issuer.Certify(ed, 1, 1, time.Unix(-1, 0), t0, make([]byte, 32))
	require.ErrorIs(t, err, issuer.ErrValidity)
	_, err = issuer.Certify(ed, 1, 1, t0, time.Unix(1<<32, 0), make([]byte, 32))
	require.ErrorIs(t, err, issuer.ErrValidity)
	_, err = issuer.GenerateKey(campuscode.Algorithm(7), 1, nil)
	require.ErrorIs(t, err, issuer.ErrAlgorithm)

	cert, err := issuer.Certify(sm, 9, 1234, t0, t0.Add(time.Hour), sm.PublicKey())
	require.NoError(t, err)
	require.Len(t, cert, 23+33+64)
}

func TestLoadRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	k, err := issuer.GenerateKey(campuscode.SM2, 4, nil)
	require.NoError(t, err)
	good := filepath.Join(dir, "good.key")
	require.NoError(t, k.Save(good))
	raw, err := os.ReadFile(good)
	require.NoError(t, err)
	d, err := issuer.NewDevice(k, 4, 99, t0, t0.Add(time.Hour), nil)
	require.NoError(t, err)
	goodDev := filepath.Join(dir, "good.dev")
	require.NoError(t, d.Save(goodDev))
	rawDev, err := os.ReadFile(goodDev)
	require.NoError(t, err)

	replace := func(src []byte, from, to string) []byte {
		return []byte(strings.Replace(string(src), from, to, 1))
	}
	lineOf := func(src []byte, name string) string {
		for _, l := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(l, name+":") {
				return l
			}
		}
		t.Fatalf("no %s line", name)
		return ""
	}
	keyCases := map[string][]byte{
		"no colon":        append(raw, "garbage\n"...),
		"duplicate":       append(raw, "alg: sm2\n"...),
		"wrong kind":      replace(raw, "kind: issuer-key", "kind: device"),
		"bad alg":         replace(raw, "alg: sm2", "alg: rsa"),
		"missing key-id":  replace(raw, lineOf(raw, "key-id"), ""),
		"key-id too big":  replace(raw, "key-id: 4", "key-id: 4294967296"),
		"bad hex":         replace(raw, "private: ", "private: zz"),
		"short private":   replace(raw, lineOf(raw, "private"), "private: 00"),
		"public mismatch": replace(raw, "public: 0", "public: 1"),
	}
	for name, content := range keyCases {
		t.Run("key/"+name, func(t *testing.T) {
			path := filepath.Join(dir, "k")
			require.NoError(t, os.WriteFile(path, content, 0o600))
			_, err := issuer.LoadKey(path)
			require.Error(t, err)
			require.NotContains(t, err.Error(), lineOf(raw, "private")[len("private: "):])
		})
	}
	otherDev, err := issuer.NewDevice(k, 4, 99, t0, t0.Add(time.Hour), nil)
	require.NoError(t, err)
	devCases := map[string][]byte{
		"other account": replace(rawDev, "account: 99", "account: 98"),
		"other cert":    replace(rawDev, lineOf(rawDev, "cert"), "cert: "+hexOf(otherDev.Cert)),
		"short cert":    replace(rawDev, lineOf(rawDev, "cert"), "cert: 00"),
		"counter range": replace(rawDev, "counter: 0", "counter: 65536"),
		"key file":      raw,
	}
	for name, content := range devCases {
		t.Run("device/"+name, func(t *testing.T) {
			path := filepath.Join(dir, "d")
			require.NoError(t, os.WriteFile(path, content, 0o600))
			_, err := issuer.LoadDevice(path)
			require.Error(t, err)
		})
	}
	_, err = issuer.LoadKey(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
