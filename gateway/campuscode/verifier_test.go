package campuscode_test

import (
	"bytes"
	"testing"
	"time"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm2/sm2ec"
	"github.com/stretchr/testify/require"
)

var algs = []campuscode.Algorithm{campuscode.Ed25519, campuscode.SM2}

func TestVerifyValid(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			k := newKey(t, alg, 7)
			d := newDevice(t, k, 20230001)
			v := newVerifier(t, campuscode.Config{}, k)

			text, err := d.Code(t0)
			require.NoError(t, err)
			res, err := v.Verify([]byte(text), t0)
			require.NoError(t, err)
			require.Equal(t, campuscode.Result{Account: 20230001, GeneratedAt: uint32(t0.Unix()), Counter: 1, KeyID: 7, Alg: alg}, res)
			require.Equal(t, "00", campuscode.ResponseCode(err))

			// the second code from the same device is a cache hit
			text, err = d.Code(t0.Add(time.Second))
			require.NoError(t, err)
			res, err = v.Verify([]byte(text), t0.Add(2*time.Second))
			require.NoError(t, err)
			require.Equal(t, uint16(2), res.Counter)
			st := v.CacheStats()
			require.Equal(t, 1, st.Entries)
			require.Equal(t, uint64(1), st.Hits)
			require.Equal(t, uint64(1), st.Misses)
		})
	}
}

func TestVerifyFreshnessWindow(t *testing.T) {
	k := newKey(t, campuscode.Ed25519, 1)
	d := newDevice(t, k, 5)
	v := newVerifier(t, campuscode.Config{Validity: 20 * time.Second, Skew: 5 * time.Second}, k)
	cases := []struct {
		name   string
		ga     time.Duration // generated-at relative to now
		reason string
	}{
		{"oldest accepted", -20 * time.Second, "ok"},
		{"one second too old", -21 * time.Second, "stale"},
		{"furthest future accepted", 5 * time.Second, "ok"},
		{"one second beyond skew", 6 * time.Second, "future"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Verify(codeAt(t, d, t0.Add(c.ga), uint16(i)), t0)
			require.Equal(t, c.reason, campuscode.Reason(err))
			if err != nil {
				require.Equal(t, "Q3", campuscode.ResponseCode(err))
			}
		})
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	// Two keys active at once, a third retired: codes under the old and new
	// key both verify during the overlap, the retired one does not.
	old := newKey(t, campuscode.Ed25519, 1)
	cur := newKey(t, campuscode.SM2, 2)
	retired := newKey(t, campuscode.Ed25519, 3)
	cfg := campuscode.Config{Algorithms: bothAlgs, Issuers: []campuscode.IssuerKey{
		old.IssuerKey(), cur.IssuerKey(),
		{KeyID: 3, Alg: campuscode.Ed25519, PublicKey: retired.PublicKey(), NotAfter: t0.Add(-time.Hour)},
	}}
	v, err := campuscode.NewVerifier(cfg)
	require.NoError(t, err)

	for _, k := range []struct {
		d      func() []byte
		reason string
	}{
		{func() []byte { return codeAt(t, newDevice(t, old, 1), t0, 1) }, "ok"},
		{func() []byte { return codeAt(t, newDevice(t, cur, 2), t0, 1) }, "ok"},
		{func() []byte { return codeAt(t, newDevice(t, retired, 3), t0, 1) }, "key_expired"},
	} {
		_, err := v.Verify(k.d(), t0)
		require.Equal(t, k.reason, campuscode.Reason(err))
	}
}

func TestVerifyKeyRing(t *testing.T) {
	ed := newKey(t, campuscode.Ed25519, 1)
	sm := newKey(t, campuscode.SM2, 2)
	edDev, smDev := newDevice(t, ed, 1), newDevice(t, sm, 2)
	ring := func(mut func(*campuscode.IssuerKey)) campuscode.Config {
		e, s := ed.IssuerKey(), sm.IssuerKey()
		mut(&e)
		mut(&s)
		return campuscode.Config{Algorithms: bothAlgs, Issuers: []campuscode.IssuerKey{e, s}}
	}
	cases := []struct {
		name   string
		cfg    campuscode.Config
		reason string
	}{
		{"active", ring(func(*campuscode.IssuerKey) {}), "ok"},
		{"revoked", ring(func(k *campuscode.IssuerKey) { k.Revoked = true }), "revoked_key"},
		{"not yet valid", ring(func(k *campuscode.IssuerKey) { k.NotBefore = t0.Add(time.Second) }), "key_expired"},
		{"no longer valid", ring(func(k *campuscode.IssuerKey) { k.NotAfter = t0.Add(-time.Second) }), "key_expired"},
		{"window covers now", ring(func(k *campuscode.IssuerKey) {
			k.NotBefore, k.NotAfter = t0.Add(-time.Hour), t0.Add(time.Hour)
		}), "ok"},
		{"unknown id", ring(func(k *campuscode.IssuerKey) { k.KeyID += 100 }), "unknown_key"},
		{"id of the other algorithm", func() campuscode.Config {
			e, s := ed.IssuerKey(), sm.IssuerKey()
			e.KeyID, s.KeyID = s.KeyID, e.KeyID
			return campuscode.Config{Algorithms: bothAlgs, Issuers: []campuscode.IssuerKey{e, s}}
		}(), "unknown_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := campuscode.NewVerifier(c.cfg)
			require.NoError(t, err)
			for _, d := range [][]byte{codeAt(t, edDev, t0, 1), codeAt(t, smDev, t0, 1)} {
				_, err := v.Verify(d, t0)
				require.Equal(t, c.reason, campuscode.Reason(err))
				if err != nil {
					require.Equal(t, "Q5", campuscode.ResponseCode(err))
				}
			}
		})
	}
}

func TestVerifyAlgorithmDisabled(t *testing.T) {
	ed := newKey(t, campuscode.Ed25519, 1)
	sm := newKey(t, campuscode.SM2, 2)
	v := newVerifier(t, campuscode.Config{Algorithms: []campuscode.Algorithm{campuscode.SM2}}, ed, sm)
	_, err := v.Verify(codeAt(t, newDevice(t, ed, 1), t0, 1), t0)
	require.Equal(t, "alg_disabled", campuscode.Reason(err))
	require.Equal(t, "Q5", campuscode.ResponseCode(err))
	_, err = v.Verify(codeAt(t, newDevice(t, sm, 1), t0, 1), t0)
	require.NoError(t, err)
}

func TestVerifyCertificateValidity(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			k := newKey(t, alg, 1)
			d := newDevice(t, k, 9) // [t0-30d, t0+30d]
			v := newVerifier(t, campuscode.Config{}, k)
			for _, c := range []struct {
				now    time.Time
				reason string
			}{
				{t0.Add(-30 * 24 * time.Hour), "ok"},
				{t0.Add(-30*24*time.Hour - time.Second), "cert_expired"},
				{t0.Add(30 * 24 * time.Hour), "ok"},
				{t0.Add(30*24*time.Hour + time.Second), "cert_expired"},
			} {
				_, err := v.Verify(codeAt(t, d, c.now, 1), c.now)
				require.Equal(t, c.reason, campuscode.Reason(err), c.now)
			}
		})
	}
}

func TestVerifyCachedPathRejectsForgedUserSignature(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			k := newKey(t, alg, 1)
			d := newDevice(t, k, 42)
			v := newVerifier(t, campuscode.Config{}, k)
			good := codeAt(t, d, t0, 1)
			_, err := v.Verify(good, t0)
			require.NoError(t, err)
			require.Equal(t, 1, v.CacheStats().Entries)

			// same certificate (cache hit), last byte of the user signature changed
			c, err := campuscode.Parse(good)
			require.NoError(t, err)
			forged := flipByte(good, len(c.Payload)-1)
			_, err = v.Verify(forged, t0)
			require.Equal(t, "user_signature", campuscode.Reason(err))
			require.Equal(t, "Q2", campuscode.ResponseCode(err))
			require.Equal(t, uint64(1), v.CacheStats().Hits)

			// a code signed by another user key under the same certificate
			other := newDevice(t, k, 42)
			other.Cert = d.Cert
			_, err = v.Verify(codeAt(t, other, t0, 2), t0)
			require.Equal(t, "user_signature", campuscode.Reason(err))

			// counter changed after signing
			_, err = v.Verify(flipByte(good, len(c.Payload)-campuscode.SigSize-1), t0)
			require.Equal(t, "user_signature", campuscode.Reason(err))
		})
	}
}

func TestVerifyForgedCertificate(t *testing.T) {
	for _, alg := range algs {
		t.Run(alg.String(), func(t *testing.T) {
			k := newKey(t, alg, 1)
			d := newDevice(t, k, 1000)
			v := newVerifier(t, campuscode.Config{}, k)

			// account changed in the certificate, code re-signed by the user
			tampered := *d
			tampered.Cert = bytes.Clone(d.Cert)
			tampered.Cert[13] ^= 1
			_, err := v.Verify(codeAt(t, &tampered, t0, 1), t0)
			require.Equal(t, "issuer_signature", campuscode.Reason(err))

			// certificate by another issuer key claiming the same id
			rogue := newKey(t, alg, 1)
			_, err = v.Verify(codeAt(t, newDevice(t, rogue, 1000), t0, 1), t0)
			require.Equal(t, "issuer_signature", campuscode.Reason(err))
			require.Equal(t, "Q2", campuscode.ResponseCode(err))
			require.Zero(t, v.CacheStats().Entries, "a failed certificate is never cached")
		})
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	k := newKey(t, campuscode.Ed25519, 1)
	v := newVerifier(t, campuscode.Config{CacheSize: 3}, k)
	devs := make([]*issuer.Device, 5)
	for i := range devs {
		devs[i] = newDevice(t, k, uint64(i+1))
	}
	verify := func(i int) {
		t.Helper()
		_, err := v.Verify(codeAt(t, devs[i], t0, 1), t0)
		require.NoError(t, err)
	}
	verify(0)
	verify(1)
	verify(2)
	require.Equal(t, campuscode.CacheStats{Entries: 3, Misses: 3}, v.CacheStats())
	verify(0) // hit: 0 becomes most recent, 1 is now the oldest
	verify(3) // evicts 1
	st := v.CacheStats()
	require.Equal(t, 3, st.Entries)
	require.Equal(t, uint64(1), st.Evictions)
	require.Equal(t, uint64(1), st.Hits)
	verify(0) // still cached
	verify(2) // still cached
	require.Equal(t, uint64(3), v.CacheStats().Hits)
	verify(1) // was evicted: a miss, evicting 3
	st = v.CacheStats()
	require.Equal(t, campuscode.CacheStats{Entries: 3, Hits: 3, Misses: 5, Evictions: 2}, st)
	verify(4)
	require.Equal(t, 3, v.CacheStats().Entries)
}

func TestVerifyMalformed(t *testing.T) {
	k := newKey(t, campuscode.Ed25519, 1)
	d := newDevice(t, k, 1)
	v := newVerifier(t, campuscode.Config{}, k)
	good := codeAt(t, d, t0, 1)
	c, err := campuscode.Parse(good)
	require.NoError(t, err)
	withPayload := func(mut func([]byte) []byte) []byte {
		return campuscode.AppendText(nil, mut(bytes.Clone(c.Payload)))
	}
	cases := map[string][]byte{
		"empty":            nil,
		"no prefix":        good[4:],
		"lower prefix":     append([]byte("cc1:"), good[4:]...),
		"truncated":        good[:len(good)-3],
		"bad base45":       append(bytes.Clone(good[:len(good)-3]), "ab#"...),
		"too long text":    append(bytes.Clone(good), "000000000000"...),
		"extra byte":       withPayload(func(p []byte) []byte { return append(p, 0) }),
		"short by one":     withPayload(func(p []byte) []byte { return p[:len(p)-1] }),
		"version 2":        withPayload(func(p []byte) []byte { p[0] = 2; return p }),
		"algorithm 3":      withPayload(func(p []byte) []byte { p[1] = 3; return p }),
		"L 33 for ed25519": withPayload(func(p []byte) []byte { p[22] = 33; return append(p, 0) }),
		"ed25519 as sm2":   withPayload(func(p []byte) []byte { p[1] = 2; return p }),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(text, t0)
			require.ErrorIs(t, err, campuscode.ErrMalformed)
			require.Equal(t, "malformed", campuscode.Reason(err))
			require.Equal(t, "Q1", campuscode.ResponseCode(err))
		})
	}
}

func TestVerifySM2InvalidUserPoint(t *testing.T) {
	// An issuer that signed a certificate whose user key is not a point:
	// rejected as malformed before any signature work on it.
	k := newKey(t, campuscode.SM2, 1)
	d := newDevice(t, k, 1)
	v := newVerifier(t, campuscode.Config{}, k)
	c, err := campuscode.Parse(codeAt(t, d, t0, 1))
	require.NoError(t, err)
	p := bytes.Clone(c.Payload)
	p[23] = 0x05 // not a compressed point prefix
	_, err = v.Verify(campuscode.AppendText(nil, p), t0)
	require.Equal(t, "malformed", campuscode.Reason(err))
}

func TestErrorsCarryNoInput(t *testing.T) {
	k := newKey(t, campuscode.SM2, 1)
	d := newDevice(t, k, 123456789)
	v := newVerifier(t, campuscode.Config{}, k)
	good := codeAt(t, d, t0, 1)
	for _, text := range [][]byte{good[:100], flipByte(good, 100), codeAt(t, d, t0.Add(-time.Hour), 2)} {
		_, err := v.Verify(text, t0)
		require.Error(t, err)
		msg := err.Error()
		require.NotContains(t, msg, string(text[4:20]))
		require.NotContains(t, msg, "123456789")
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	ed := newKey(t, campuscode.Ed25519, 1)
	good := ed.IssuerKey()
	cases := map[string]campuscode.Config{
		"negative validity": {Validity: -time.Second},
		"negative skew":     {Skew: -time.Second},
		"negative cache":    {CacheSize: -1},
		"unknown algorithm": {Algorithms: []campuscode.Algorithm{9}},
		"duplicate id":      {Issuers: []campuscode.IssuerKey{good, good}},
		"short ed25519":     {Issuers: []campuscode.IssuerKey{{KeyID: 1, Alg: campuscode.Ed25519, PublicKey: make([]byte, 31)}}},
		"sm2 not a point":   {Issuers: []campuscode.IssuerKey{{KeyID: 1, Alg: campuscode.SM2, PublicKey: append([]byte{2}, bytes.Repeat([]byte{0xff}, 32)...)}}},
		"sm2 wrong length":  {Issuers: []campuscode.IssuerKey{{KeyID: 1, Alg: campuscode.SM2, PublicKey: make([]byte, 32)}}},
		"key alg unknown":   {Issuers: []campuscode.IssuerKey{{KeyID: 1, Alg: 0, PublicKey: make([]byte, 32)}}},
		"reversed window":   {Issuers: []campuscode.IssuerKey{{KeyID: 1, Alg: campuscode.Ed25519, PublicKey: good.PublicKey, NotBefore: t0, NotAfter: t0.Add(-time.Second)}}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := campuscode.NewVerifier(cfg)
			require.ErrorIs(t, err, campuscode.ErrConfig)
		})
	}
}

func TestNewVerifierAcceptsUncompressedSM2(t *testing.T) {
	k := newKey(t, campuscode.SM2, 4)
	x, y := sm2ec.UnmarshalCompressed(sm2.P256(), k.PublicKey())
	require.NotNil(t, x, "the issuer key is a compressed SM2 point")
	raw := append([]byte{4}, append(x.FillBytes(make([]byte, 32)), y.FillBytes(make([]byte, 32))...)...)
	v, err := campuscode.NewVerifier(campuscode.Config{Algorithms: bothAlgs, Issuers: []campuscode.IssuerKey{{KeyID: 4, Alg: campuscode.SM2, PublicKey: raw}}})
	require.NoError(t, err)
	_, err = v.Verify(codeAt(t, newDevice(t, k, 1), t0, 1), t0)
	require.NoError(t, err)
}

func TestZeroConfigValues(t *testing.T) {
	// Zero values mean what gateway/config means by them.
	k := newKey(t, campuscode.Ed25519, 1)
	d := newDevice(t, k, 1)
	v, err := campuscode.NewVerifier(campuscode.Config{Issuers: []campuscode.IssuerKey{k.IssuerKey()}})
	require.NoError(t, err)
	require.Equal(t, campuscode.DefaultValidity, v.Validity())
	require.Zero(t, v.Skew())

	_, err = v.Verify(codeAt(t, d, t0, 1), t0)
	require.Equal(t, "alg_disabled", campuscode.Reason(err), "no algorithm enabled")

	v, err = campuscode.NewVerifier(campuscode.Config{Algorithms: bothAlgs, Issuers: []campuscode.IssuerKey{k.IssuerKey()}})
	require.NoError(t, err)
	_, err = v.Verify(codeAt(t, d, t0.Add(time.Second), 2), t0)
	require.Equal(t, "future", campuscode.Reason(err), "no skew allowed")
	for i := range 3 {
		_, err = v.Verify(codeAt(t, d, t0, uint16(3+i)), t0)
		require.NoError(t, err)
	}
	st := v.CacheStats()
	require.Zero(t, st.Entries, "cache disabled")
	require.Zero(t, st.Hits)
}

func TestReplayKeyAndExpiry(t *testing.T) {
	v := newVerifier(t, campuscode.Config{Validity: time.Minute, Skew: 30 * time.Second})
	res := campuscode.Result{Account: 0x0102030405060708, GeneratedAt: 0x0A0B0C0D, Counter: 0x0E0F, KeyID: 1}
	key := campuscode.ReplayKey(res)
	require.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F}, key[:])
	other := res
	other.Counter++
	require.NotEqual(t, key, campuscode.ReplayKey(other))

	ga := time.Unix(0x0A0B0C0D, 0).UTC()
	exp := v.Expiry(res)
	require.Equal(t, ga.Add(90*time.Second+campuscode.ExpiryMargin), exp)
	require.Equal(t, time.UTC, exp.Location())
}

func TestVerifyConcurrent(t *testing.T) {
	// Run with -race: the cache is shared by every worker.
	k := newKey(t, campuscode.Ed25519, 1)
	v := newVerifier(t, campuscode.Config{CacheSize: 2}, k)
	texts := make([][]byte, 4)
	for i := range texts {
		texts[i] = codeAt(t, newDevice(t, k, uint64(i)), t0, 1)
	}
	done := make(chan error, 4)
	for w := range 4 {
		go func() {
			var err error
			for i := range 20 {
				if _, e := v.Verify(texts[(w+i)%len(texts)], t0); e != nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-done)
	}
	require.LessOrEqual(t, v.CacheStats().Entries, 2)
}
