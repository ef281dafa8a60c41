package iso8583_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	moov "github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
)

// campusField restates the field table of shared/spec/pos-protocol.md on
// its own, so the cross-check does not trust the package's profile.
type campusField struct {
	f    int
	kind string // "n", "an", "ans", "b"
	lk   int    // 0 fixed, 2 LL, 3 LLL
	max  int
	left bool // fixed n field left-aligned (field 22)
}

var campusFields = []campusField{
	{2, "n", 2, 19, false},
	{3, "n", 0, 6, false},
	{4, "n", 0, 12, false},
	{11, "n", 0, 6, false},
	{12, "n", 0, 6, false},
	{13, "n", 0, 4, false},
	{22, "n", 0, 3, true},
	{25, "n", 0, 2, false},
	{37, "an", 0, 12, false},
	{38, "an", 0, 6, false},
	{39, "an", 0, 2, false},
	{41, "ans", 0, 8, false},
	{42, "ans", 0, 15, false},
	{44, "ans", 2, 25, false},
	{48, "n", 3, 31, false},
	{49, "an", 0, 3, false},
	{54, "an", 3, 40, false},
	{55, "b", 3, 255, false},
	{60, "n", 3, 11, false},
	{61, "n", 3, 16, false},
	{62, "b", 3, 512, false},
	{63, "ans", 3, 163, false},
	{64, "b", 0, 8, false},
}

// moovSpec is the campus profile written as a moov MessageSpec: BCD MTI,
// binary 8-byte bitmap, BCD length prefixes, encoding.BCD for
// right-aligned n, encoding.LBCD (left-aligned, trailing pad) for field 22
// and the variable n fields, ASCII for an/ans, Binary for b.
var moovSpec = func() *moov.MessageSpec {
	fields := map[int]field.Field{
		0: field.NewString(&field.Spec{Length: 4, Description: "MTI", Enc: encoding.BCD, Pref: prefix.BCD.Fixed}),
		1: field.NewBitmap(&field.Spec{Length: 8, Description: "Bitmap", Enc: encoding.Binary, Pref: prefix.Binary.Fixed, DisableAutoExpand: true}),
	}
	for _, cf := range campusFields {
		pref := [...]prefix.Prefixer{0: prefix.BCD.Fixed, 2: prefix.BCD.LL, 3: prefix.BCD.LLL}[cf.lk]
		spec := &field.Spec{Length: cf.max, Description: fmt.Sprintf("F%d", cf.f), Pref: pref}
		switch cf.kind {
		case "n":
			spec.Enc = encoding.BCD
			if cf.left || cf.lk != 0 {
				spec.Enc = boundedLBCD{}
			}
			fields[cf.f] = field.NewString(spec)
		case "an", "ans":
			spec.Enc = encoding.ASCII
			fields[cf.f] = field.NewString(spec)
		case "b":
			spec.Enc = encoding.Binary
			fields[cf.f] = field.NewBinary(spec)
		}
	}
	return &moov.MessageSpec{Name: "ecardgw campus profile", Fields: fields}
}()

// boundedLBCD is moov's encoding.LBCD with its input cut to the field:
// moov v0.23.0's LBCD Decode hands the whole rest of the message to the
// BCD decoder, so any later byte that is not BCD (an ASCII field, the
// MAC) fails the unpack. Only the slicing is added here.
type boundedLBCD struct{}

func (boundedLBCD) Encode(src []byte) ([]byte, error) { return encoding.LBCD.Encode(src) }

func (boundedLBCD) Decode(src []byte, length int) ([]byte, int, error) {
	if n := (length + 1) / 2; length >= 0 && n <= len(src) {
		src = src[:n]
	}
	return encoding.LBCD.Decode(src, length)
}

// specMessages is the message table of the spec: request MTI and
// processing code ("" when field 3 is not used). Answers (MTI + 10) are
// generated from each too.
var specMessages = []struct {
	mti  iso8583.MTI
	proc string
}{
	{800, ""}, {820, ""},
	{100, "310000"}, {100, "330000"}, {100, "300000"},
	{200, "000000"}, {200, "200000"}, {200, "190000"}, {200, "210000"}, {200, "170000"},
	{220, "000000"},
	{400, "000000"}, {400, "190000"},
	{500, "000000"},
}

// randomValue is a valid value for cf: digits, printable ASCII or bytes.
func randomValue(r *rand.Rand, cf campusField) []byte {
	n := cf.max
	if cf.lk != 0 {
		n = r.IntN(cf.max + 1)
	}
	v := make([]byte, n)
	for i := range v {
		switch cf.kind {
		case "n":
			v[i] = byte('0' + r.IntN(10))
		case "an", "ans":
			v[i] = byte(0x20 + r.IntN(0x7F-0x20))
		default:
			v[i] = byte(r.Uint32())
		}
	}
	return v
}

type fieldValues map[int][]byte

// randomMessage draws a message of the given type: each profile field
// present with probability one half, field 3 set to proc when given.
func randomMessage(r *rand.Rand, proc string) fieldValues {
	fv := fieldValues{}
	for _, cf := range campusFields {
		if r.IntN(2) == 0 {
			fv[cf.f] = randomValue(r, cf)
		}
	}
	if proc != "" {
		fv[3] = []byte(proc)
	} else {
		delete(fv, 3)
	}
	return fv
}

func toMoov(t *testing.T, mti iso8583.MTI, fv fieldValues) *moov.Message {
	t.Helper()
	mm := moov.NewMessage(moovSpec)
	mm.MTI(mti.String())
	for f, v := range fv {
		if f == 55 || f == 62 || f == 64 {
			require.NoError(t, mm.BinaryField(f, v))
		} else {
			require.NoError(t, mm.Field(f, string(v)))
		}
	}
	return mm
}

func toOurs(t *testing.T, mti iso8583.MTI, fv fieldValues) *iso8583.Message {
	t.Helper()
	m := new(iso8583.Message)
	m.MTI = mti
	for f, v := range fv {
		require.NoError(t, m.SetBytes(f, v), "field %d", f)
	}
	return m
}

// requireSameFields compares our decoded message with moov's, field by field.
func requireSameFields(t *testing.T, fv fieldValues, ours *iso8583.Message, theirs *moov.Message) {
	t.Helper()
	mti, err := theirs.GetMTI()
	require.NoError(t, err)
	require.Equal(t, ours.MTI.String(), mti)
	for _, cf := range campusFields {
		want, present := fv[cf.f]
		require.Equal(t, present, ours.Has(cf.f), "field %d presence", cf.f)
		if !present {
			continue
		}
		var got []byte
		if cf.kind == "n" {
			got = []byte(ours.Digits(cf.f))
		} else {
			got = ours.Bytes(cf.f)
		}
		require.Equal(t, string(want), string(got), "field %d ours", cf.f)
		var moovVal []byte
		if cf.kind == "b" {
			moovVal, err = theirs.GetBytes(cf.f)
		} else {
			var s string
			s, err = theirs.GetString(cf.f)
			moovVal = []byte(s)
		}
		require.NoError(t, err)
		require.Equal(t, string(want), string(moovVal), "field %d moov", cf.f)
	}
}

func TestCrossCheckMoov(t *testing.T) {
	r := rand.New(rand.NewPCG(8583, 2026))
	for _, sm := range specMessages {
		for _, mti := range []iso8583.MTI{sm.mti, sm.mti.Response()} {
			t.Run(fmt.Sprintf("%s_%s", mti, sm.proc), func(t *testing.T) {
				for range 25 {
					fv := randomMessage(r, sm.proc)

					// moov packs, we decode.
					packed, err := toMoov(t, mti, fv).Pack()
					require.NoError(t, err)
					var ours iso8583.Message
					require.NoError(t, iso8583.Decode(&ours, packed))

					// we encode, moov unpacks; both encodings are identical.
					enc, err := iso8583.Append(nil, toOurs(t, mti, fv))
					require.NoError(t, err)
					require.Equal(t, packed, enc)
					theirs := moov.NewMessage(moovSpec)
					require.NoError(t, theirs.Unpack(enc))

					requireSameFields(t, fv, &ours, theirs)
				}
			})
		}
	}
}

// TestCrossCheckMoovPurchase: the benchmark's purchase, MAC included,
// unpacks in moov to the same fields.
func TestCrossCheckMoovPurchase(t *testing.T) {
	fr := samplePurchaseFrame(t)
	var m iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&m, fr))
	mm := moov.NewMessage(moovSpec)
	require.NoError(t, mm.Unpack(fr[13:]))
	fv := fieldValues{}
	for _, cf := range campusFields {
		if !m.Has(cf.f) {
			continue
		}
		if cf.kind == "n" {
			fv[cf.f] = []byte(m.Digits(cf.f))
		} else {
			fv[cf.f] = m.Bytes(cf.f)
		}
	}
	requireSameFields(t, fv, &m, mm)
	packed, err := mm.Pack()
	require.NoError(t, err)
	require.Equal(t, fr[13:], packed)
}
