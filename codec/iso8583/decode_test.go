package iso8583_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
	"ecardgw/codec/iso8583"
)

// Bitmaps used below, one field each (hex of the 8 bytes).
const (
	bm2  = "4000000000000000"
	bm3  = "2000000000000000"
	bm5  = "0800000000000000"
	bm22 = "0000040000000000"
	bm39 = "0000000002000000"
	bm41 = "0000000000800000"
	bm55 = "0000000000000200"
	bm60 = "0000000000000010"
	bm62 = "0000000000000004"
	bm64 = "0000000000000001"
)

func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name  string
		body  string // hex, spaces ignored
		field int
		off   int
		err   error
	}{
		{"empty", "", 0, 0, iso8583.ErrShort},
		{"half MTI", "02", 0, 0, iso8583.ErrShort},
		{"MTI not BCD", "0A00" + bm3 + "000000", 0, 0, iso8583.ErrNotBCD},
		{"no bitmap", "0200", 1, 2, iso8583.ErrShort},
		{"bitmap cut", "0200 20000000", 1, 2, iso8583.ErrShort},
		{"secondary bitmap", "0200 A000000000000000 000000", 1, 2, iso8583.ErrBitOne},
		{"field 5 not in profile", "0200" + bm5 + "000000000000", 5, 2, iso8583.ErrNotInProfile},
		{"field 65.. bit 1 takes precedence", "0200 C000000000000000", 1, 2, iso8583.ErrBitOne},
		{"fixed n cut", "0200" + bm3 + "0000", 3, 10, iso8583.ErrShort},
		{"fixed n not BCD", "0200" + bm3 + "00000A", 3, 10, iso8583.ErrNotBCD},
		{"field 22 pad nibble not 0", "0200" + bm22 + "0711", 22, 10, iso8583.ErrNotBCD},
		{"LL missing", "0200" + bm2, 2, 10, iso8583.ErrShort},
		{"LL not BCD", "0200" + bm2 + "1A" + "1234567890", 2, 10, iso8583.ErrNotBCD},
		{"LL above max", "0200" + bm2 + "20" + "12345678901234567890", 2, 10, iso8583.ErrTooLong},
		{"LL value cut", "0200" + bm2 + "12" + "1234567890", 2, 10, iso8583.ErrShort},
		{"variable n pad nibble not 0", "0200" + bm2 + "03" + "1231", 2, 10, iso8583.ErrNotBCD},
		{"variable n digit not BCD", "0200" + bm2 + "04" + "12F4", 2, 10, iso8583.ErrNotBCD},
		{"LLL half", "0200" + bm55 + "00", 55, 10, iso8583.ErrShort},
		{"LLL not BCD", "0200" + bm55 + "00A1" + "00", 55, 10, iso8583.ErrNotBCD},
		{"LLL above max b", "0200" + bm55 + "0256" + strings.Repeat("00", 256), 55, 10, iso8583.ErrTooLong},
		{"LLL above max 62", "0200" + bm62 + "0513" + strings.Repeat("00", 513), 62, 10, iso8583.ErrTooLong},
		{"LLL above max n", "0200" + bm60 + "0012" + "220000010000", 60, 10, iso8583.ErrTooLong},
		{"LLL value cut", "0200" + bm55 + "0004" + "DF0101", 55, 10, iso8583.ErrShort},
		{"an control char", "0210" + bm39 + "3001", 39, 10, iso8583.ErrBadCharset},
		{"ans DEL", "0200" + bm41 + "504F53303030307F", 41, 10, iso8583.ErrBadCharset},
		{"ans high bit", "0200" + bm41 + "504F5330303030B1", 41, 10, iso8583.ErrBadCharset},
		{"MAC cut", "0200" + bm64 + "31323334353637", 64, 10, iso8583.ErrShort},
		{"trailing byte", "0200" + bm3 + "000000" + "00", 3, 13, iso8583.ErrTrailing},
		{"trailing after bitmap only", "0800 0000000000000000 FF", 1, 10, iso8583.ErrTrailing},
		{"second field fault offset", "0200 6000000000000000 01 10 00000A", 3, 12, iso8583.ErrNotBCD},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := unhex(t, strings.ReplaceAll(tc.body, " ", ""))
			var m iso8583.Message
			err := iso8583.Decode(&m, body)
			require.ErrorIs(t, err, tc.err)
			var fe *iso8583.FieldError
			require.True(t, errors.As(err, &fe))
			require.Equal(t, tc.field, fe.Field, "field")
			require.Equal(t, tc.off, fe.Offset, "offset")
		})
	}
}

// TestDecodeErrorHidesValue: card data must never reach an error string.
func TestDecodeErrorHidesValue(t *testing.T) {
	body := unhex(t, "0200"+bm2+"19"+"62170012345678901230"+"FF")
	var m iso8583.Message
	err := iso8583.Decode(&m, body)
	require.ErrorIs(t, err, iso8583.ErrTrailing)
	require.NotContains(t, err.Error(), "6217")
	require.Equal(t, "iso8583: field 2 at offset 21: trailing bytes", err.Error())
}

func TestDecodeFrameOffsets(t *testing.T) {
	fr := samplePurchaseFrame(t)
	fr[len(fr)-9] = 0x7F // last byte of field 60 (a pad nibble 0xF)
	var m iso8583.Message
	err := iso8583.DecodeFrame(&m, fr)
	require.ErrorIs(t, err, iso8583.ErrNotBCD)
	var fe *iso8583.FieldError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, 60, fe.Field)
	require.Equal(t, len(fr)-8-8, fe.Offset, "offset counts from LEN")
}

func TestDecodeAccepts(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, m *iso8583.Message)
	}{
		{"no fields", "0820 0000000000000000", func(t *testing.T, m *iso8583.Message) {
			require.Equal(t, iso8583.MTI(820), m.MTI)
			require.False(t, m.Has(3))
		}},
		{"19-digit PAN, pad last", "0200" + bm2 + "19" + "62170012345678901230", func(t *testing.T, m *iso8583.Message) {
			require.Equal(t, "6217001234567890123", m.Digits(2))
			v, err := m.Uint(2)
			require.NoError(t, err)
			require.Equal(t, uint64(6217001234567890123), v)
		}},
		{"empty LL n", "0200" + bm2 + "00", func(t *testing.T, m *iso8583.Message) {
			require.True(t, m.Has(2))
			require.Equal(t, "", m.Digits(2))
		}},
		{"empty LLL b", "0200" + bm55 + "0000", func(t *testing.T, m *iso8583.Message) {
			require.True(t, m.Has(55))
			require.Empty(t, m.Bytes(55))
		}},
		{"field 62 at max", "0810" + bm62 + "0512" + strings.Repeat("AB", 512), func(t *testing.T, m *iso8583.Message) {
			require.Len(t, m.Bytes(62), 512)
		}},
		{"field 60 with 2 digits", "0800" + bm60 + "0002" + "00", func(t *testing.T, m *iso8583.Message) {
			f, err := m.F60()
			require.NoError(t, err)
			require.Equal(t, iso8583.F60{Len: 2}, f)
		}},
		{"field 60 with 8 digits", "0800" + bm60 + "0008" + "00123456", func(t *testing.T, m *iso8583.Message) {
			f, err := m.F60()
			require.NoError(t, err)
			require.Equal(t, iso8583.F60{Batch: 123456, Len: 8}, f)
		}},
		{"field 60 sign-in", "0800" + bm60 + "0011" + "000000010030", func(t *testing.T, m *iso8583.Message) {
			f, err := m.F60()
			require.NoError(t, err)
			require.Equal(t, iso8583.F60{MsgType: 0, Batch: 1, Network: 3, Len: 11}, f)
		}},
		{"ans space and tilde", "0200" + bm41 + "20202020207E7E7E", func(t *testing.T, m *iso8583.Message) {
			require.Equal(t, "     ~~~", string(m.TerminalID()))
		}},
		{"MAC is binary", "0200" + bm64 + "00FF00FF00FF00FF", func(t *testing.T, m *iso8583.Message) {
			require.Equal(t, unhex(t, "00FF00FF00FF00FF"), m.Bytes(64))
			require.Len(t, m.MAB(), 10)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := unhex(t, strings.ReplaceAll(tc.body, " ", ""))
			var m iso8583.Message
			require.NoError(t, iso8583.Decode(&m, body))
			tc.check(t, &m)
			again, err := iso8583.Append(nil, &m)
			require.NoError(t, err)
			require.Equal(t, body, again, "re-encoding gives the same bytes")
		})
	}
}

// TestDecodeReuse: a reused Message must not keep fields of the previous
// message, including after a failed decode.
func TestDecodeReuse(t *testing.T) {
	var m iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&m, samplePurchaseFrame(t)))
	require.True(t, m.Has(55))
	require.Error(t, iso8583.Decode(&m, unhex(t, "0200"+bm3+"00000A")))
	require.False(t, m.Has(55))
	require.Nil(t, m.MAB())
	require.NoError(t, iso8583.Decode(&m, unhex(t, "0820 0000000000000000")))
	require.False(t, m.Has(2))
	require.False(t, m.Has(64))
	require.Nil(t, m.MAB())

	// A frame whose LEN is wrong leaves nothing of the previous message.
	fr := samplePurchaseFrame(t)
	require.NoError(t, iso8583.DecodeFrame(&m, fr))
	err := iso8583.DecodeFrame(&m, fr[:len(fr)-1])
	require.ErrorIs(t, err, frame.ErrLength)
	require.Zero(t, m.MTI)
	require.Equal(t, frame.Header{}, m.Header)
	require.False(t, m.Has(2))
	require.ErrorIs(t, iso8583.DecodeFrame(&m, fr[:4]), frame.ErrTooShort)
}

func TestPeek(t *testing.T) {
	fr := samplePurchaseFrame(t)
	body := fr[13:]
	cases := []struct {
		name string
		body []byte
		mti  iso8583.MTI
		stan uint32
		ok   bool
	}{
		{"purchase", body, 200, 123, true},
		{"purchase with a bad later field", append(append([]byte(nil), body[:len(body)-1]...), 0xAA, 0xFF), 200, 123, true},
		{"empty", nil, 0, 0, false},
		{"MTI not BCD", unhex(t, "F200"), 0, 0, false},
		{"MTI only", unhex(t, "0800"), 800, 0, true},
		{"no field 11", unhex(t, "0800"+bm60+"000200"), 800, 0, true},
		{"bit 1", unhex(t, "0200A020000000000000000000000001"), 200, 0, true},
		{"unknown field before 11", unhex(t, "02000820000000000000"+"000000000000"+"000001"), 200, 0, true},
		{"field 2 broken", unhex(t, "02004020000000000000"+"1A"), 200, 0, true},
		{"STAN cut", unhex(t, "02000020000000000000"+"0001"), 200, 0, true},
		{"STAN only", unhex(t, "02000020000000000000"+"999999"), 200, 999999, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mti, stan, ok := iso8583.Peek(tc.body)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.mti, mti)
			require.Equal(t, tc.stan, stan)
		})
	}
}
