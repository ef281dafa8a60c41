package campuscode_test

import (
	"crypto/ed25519"
	"slices"
	"testing"
	"time"

	"ecardgw/gateway/campuscode"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/stretchr/testify/require"
)

// benchFixture is one device's code and a verifier whose cache already
// holds the device's certificate.
type benchFixture struct {
	v    *campuscode.Verifier
	text []byte
	code campuscode.Code
}

func newBenchFixture(tb testing.TB, alg campuscode.Algorithm) benchFixture {
	k := newKey(tb, alg, 1)
	d := newDevice(tb, k, 20230001)
	v := newVerifier(tb, campuscode.Config{}, k)
	text := codeAt(tb, d, t0, 1)
	_, err := v.Verify(text, t0) // warm the certificate cache
	require.NoError(tb, err)
	c, err := campuscode.Parse(text)
	require.NoError(tb, err)
	return benchFixture{v: v, text: text, code: c}
}

func benchVerify(b *testing.B, alg campuscode.Algorithm) {
	f := newBenchFixture(b, alg)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.v.Verify(f.text, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyEd25519Cached(b *testing.B) { benchVerify(b, campuscode.Ed25519) }
func BenchmarkVerifySM2Cached(b *testing.B)     { benchVerify(b, campuscode.SM2) }

// BenchmarkRawEd25519Verify is the floor: one crypto/ed25519 verification
// of the user signature, nothing else.
func BenchmarkRawEd25519Verify(b *testing.B) {
	f := newBenchFixture(b, campuscode.Ed25519)
	pub := ed25519.PublicKey(f.code.UserKey)
	msg, sig := f.code.Signed(), f.code.UserSig
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
	}
}

// BenchmarkRawSM2Verify is the floor for SM2, computed with gmsm alone:
// the key already decoded, Z_A already computed and the signature already
// in DER, so each iteration is one SM3 over Z_A ‖ message and one
// sm2.VerifyASN1 — the least any SM2 verification can do.
func BenchmarkRawSM2Verify(b *testing.B) {
	f := newBenchFixture(b, campuscode.SM2)
	pub, err := campuscode.ParseSM2PublicKey(f.code.UserKey)
	require.NoError(b, err)
	za, err := sm2.CalculateZA(pub, campuscode.SM2UserID)
	require.NoError(b, err)
	der := rsToDER(f.code.UserSig)
	msg := f.code.Signed()
	// the library's own full path must agree before we time the floor
	require.True(b, sm2.VerifyASN1WithSM2(pub, campuscode.SM2UserID, msg, der))
	b.ReportAllocs()
	for b.Loop() {
		h := sm3.New()
		h.Write(za)
		h.Write(msg)
		if !sm2.VerifyASN1(pub, h.Sum(nil), der) {
			b.Fatal("verify failed")
		}
	}
}

func TestVerifyEd25519CachedDoesNotAllocate(t *testing.T) {
	f := newBenchFixture(t, campuscode.Ed25519)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := f.v.Verify(f.text, t0); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

func TestVerifySM2CachedAllocatesOnlyInsideGmsm(t *testing.T) {
	// gmsm's VerifyASN1 allocates internally; the cached path may add
	// nothing of its own on top of it.
	f := newBenchFixture(t, campuscode.SM2)
	pub, err := campuscode.ParseSM2PublicKey(f.code.UserKey)
	require.NoError(t, err)
	za, err := campuscode.SM2ZA(pub)
	require.NoError(t, err)
	digest := campuscode.SM2Digest(&za, f.code.Signed())
	der := rsToDER(f.code.UserSig)
	lib := testing.AllocsPerRun(50, func() { sm2.VerifyASN1(pub, digest[:], der) })
	ours := testing.AllocsPerRun(50, func() {
		if _, err := f.v.Verify(f.text, t0); err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, ours, lib)
}

func TestRejectionsDoNotAllocate(t *testing.T) {
	f := newBenchFixture(t, campuscode.Ed25519)
	stale := t0.Add(campuscode.DefaultValidity * 2)
	for name, text := range map[string][]byte{
		"malformed": f.text[:len(f.text)-1],
		"stale":     f.text,
	} {
		allocs := testing.AllocsPerRun(50, func() {
			_, err := f.v.Verify(text, stale)
			_ = campuscode.Reason(err)
			_ = campuscode.ResponseCode(err)
		})
		require.Zero(t, allocs, name)
	}
}

// benchPaired interleaves one cached Verify and one raw verification per
// iteration and reports the median of the per-pair time ratios as
// "cached/raw". On a shared machine the separate benchmarks above drift
// with the load between them; two calls microseconds apart see the same
// load, so this ratio is the stable figure for docs/BENCHMARKS.md.
func benchPaired(b *testing.B, alg campuscode.Algorithm, raw func(f benchFixture) func() bool) {
	f := newBenchFixture(b, alg)
	rawVerify := raw(f)
	ratios := make([]float64, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		t1 := time.Now()
		if _, err := f.v.Verify(f.text, t0); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if !rawVerify() {
			b.Fatal("raw verify failed")
		}
		t3 := time.Now()
		ratios = append(ratios, float64(t2.Sub(t1))/float64(t3.Sub(t2)))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "cached/raw")
}

func BenchmarkPairedEd25519(b *testing.B) {
	benchPaired(b, campuscode.Ed25519, func(f benchFixture) func() bool {
		pub := ed25519.PublicKey(f.code.UserKey)
		msg, sig := f.code.Signed(), f.code.UserSig
		return func() bool { return ed25519.Verify(pub, msg, sig) }
	})
}

func BenchmarkPairedSM2(b *testing.B) {
	benchPaired(b, campuscode.SM2, func(f benchFixture) func() bool {
		pub, err := campuscode.ParseSM2PublicKey(f.code.UserKey)
		require.NoError(b, err)
		za, err := sm2.CalculateZA(pub, campuscode.SM2UserID)
		require.NoError(b, err)
		der, msg := rsToDER(f.code.UserSig), f.code.Signed()
		return func() bool {
			h := sm3.New()
			h.Write(za)
			h.Write(msg)
			return sm2.VerifyASN1(pub, h.Sum(nil), der)
		}
	})
}
