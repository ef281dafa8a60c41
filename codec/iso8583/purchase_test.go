package iso8583_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
)

// TestPurchaseWireLayout pins the exact bytes of the sample purchase, so
// every encoding rule (BCD MTI, bitmap, LL/LLL prefixes, right-aligned,
// left-aligned and padded n fields) is visible in one place.
func TestPurchaseWireLayout(t *testing.T) {
	b, err := iso8583.Append(nil, samplePurchase(t))
	require.NoError(t, err)
	want := "0200" + // MTI
		"7038048000C08210" + // bitmap: 2 3 4 11 12 13 22 25 41 42 49 55 60
		"12" + "123456789012" + // 2: LL 12 digits
		"000000" + // 3
		"000000001250" + // 4
		"000123" + // 11
		"143015" + // 12
		"1126" + // 13
		"0710" + // 22: left-aligned, pad last
		"00" + // 25
		"504F533030303031" + // 41 "POS00001"
		"313233343536373839303132333435" + // 42
		"313536" + // 49
		"0031" + "DF010404A1B2C3" + "DF020A10000000001234567890" + "DF0308000000000001E240" + // 55: LLL 31 bytes
		"0011" + "22000001000" + "0" // 60: LLL 11 digits, pad last
	require.Equal(t, want, hexUpper(b))
}

func hexUpper(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0x0F])
	}
	return string(out)
}

func TestAppendFrameMAC(t *testing.T) {
	m := samplePurchase(t)
	fr, err := iso8583.AppendFrame([]byte("keep"), m, sampleMAK)
	require.NoError(t, err)
	require.Equal(t, "keep", string(fr[:4]))
	fr = fr[4:]
	require.False(t, m.Has(64), "AppendFrame must not change the message")

	n, err := frame.Next(fr, frame.DefaultMax)
	require.NoError(t, err)
	require.Equal(t, len(fr), n)

	var d iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&d, fr))
	require.Equal(t, sampleHeader, d.Header)
	require.True(t, d.Has(64))
	sum := mac.ECB(sampleMAK, d.MAB())
	require.True(t, mac.Equal(sum[:], d.Bytes(64)))

	// The MAB is the body up to field 64: MTI .. end of field 60 here.
	body := fr[frame.LenSize+frame.TPDUSize+frame.HeaderSize:]
	require.Equal(t, body[:len(body)-8], d.MAB())
	require.Equal(t, byte(0x01), body[9]&0x01, "bit 64 set in the bitmap")

	// Without a MAK the stored field 64 is written back unchanged.
	again, err := iso8583.AppendFrame(nil, &d, nil)
	require.NoError(t, err)
	require.Equal(t, fr, again)

	// A second MAK re-keys the cached schedule.
	other := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	fr2, err := iso8583.AppendFrame(nil, m, other)
	require.NoError(t, err)
	require.NoError(t, iso8583.DecodeFrame(&d, fr2))
	sum = mac.ECB(other, d.MAB())
	require.Equal(t, sum[:], d.Bytes(64))

	_, err = iso8583.AppendFrame(nil, m, []byte{1, 2, 3})
	require.ErrorIs(t, err, mac.ErrKeySize)
}

func TestDecodePurchaseAccessors(t *testing.T) {
	var m iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&m, samplePurchaseFrame(t)))
	require.Equal(t, iso8583.MTI(200), m.MTI)
	require.Equal(t, "0200", m.MTI.String())
	require.Equal(t, iso8583.MTI(210), m.MTI.Response())

	pc, err := m.ProcCode()
	require.NoError(t, err)
	require.Zero(t, pc)
	stan, err := m.STAN()
	require.NoError(t, err)
	require.Equal(t, uint32(123), stan)
	amt, err := m.Amount()
	require.NoError(t, err)
	require.Equal(t, int64(1250), amt)
	require.Equal(t, "POS00001", string(m.TerminalID()))
	require.Equal(t, "123456789012345", string(m.MerchantID()))
	require.Equal(t, "123456789012", m.Digits(2))
	require.Equal(t, "071", m.Digits(22))
	require.Equal(t, []byte{0x07, 0x10}, m.Raw(22))
	require.Equal(t, sampleCardData(), m.Bytes(55))
	require.Nil(t, m.Bytes(4), "n fields have no Bytes")
	require.Nil(t, m.Raw(5))
	require.Equal(t, "x", string(m.AppendDigits([]byte("x"), 39)))

	f60, err := m.F60()
	require.NoError(t, err)
	require.Equal(t, iso8583.F60{MsgType: 22, Batch: 1, Network: 0, Len: 11}, f60)

	_, err = m.Uint(61)
	require.ErrorIs(t, err, iso8583.ErrAbsent)
	_, err = m.Uint(41)
	require.ErrorIs(t, err, iso8583.ErrType)
	_, err = m.Uint(5)
	require.ErrorIs(t, err, iso8583.ErrNotInProfile)
}

func TestResponseFrom(t *testing.T) {
	var req iso8583.Message
	fr := samplePurchaseFrame(t)
	require.NoError(t, iso8583.DecodeFrame(&req, fr))

	var resp iso8583.Message
	require.NoError(t, resp.SetString(39, "51"), "stale content is reset")
	resp.SetResponseFrom(&req, 2, 3, 4, 11, 41, 42, 60, 62)
	require.Equal(t, iso8583.MTI(210), resp.MTI)
	require.Equal(t, [5]byte{0x60, 0x00, 0x00, 0x00, 0x03}, resp.Header.TPDU)
	require.False(t, resp.Has(39))
	require.False(t, resp.Has(62), "absent in the request")
	require.False(t, resp.Has(55), "not listed")
	require.NoError(t, resp.SetString(39, "00"))

	// The answer owns its values: clobbering the request frame leaves it intact.
	clear(fr)
	require.Equal(t, "POS00001", string(resp.TerminalID()))
	require.Equal(t, "123456789012", resp.Digits(2))
	amt, err := resp.Amount()
	require.NoError(t, err)
	require.Equal(t, int64(1250), amt)

	// In place: keep only the listed fields.
	m := samplePurchase(t)
	m.SetResponseFrom(m, 11, 41)
	require.Equal(t, iso8583.MTI(210), m.MTI)
	require.True(t, m.Has(11))
	require.True(t, m.Has(41))
	require.False(t, m.Has(2))
	require.False(t, m.Has(60))
}

func TestCopyOwnsValues(t *testing.T) {
	fr := samplePurchaseFrame(t)
	var src, dst iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&src, fr))
	want, err := iso8583.AppendFrame(nil, &src, nil)
	require.NoError(t, err)
	src.Copy(&dst)
	src.Copy(&src) // no-op
	clear(fr)
	got, err := iso8583.AppendFrame(nil, &dst, nil)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Nil(t, dst.MAB())
}

// TestAppendFrameDoubleLengthMAK: under a 16-byte session MAK field 64 is
// the ANSI X9.19 MAC of the MAB (8 bytes), from the raw MAK and from a
// prepared key alike; the 8-byte MAK keeps the UnionPay ECB MAC.
func TestAppendFrameDoubleLengthMAK(t *testing.T) {
	mak := []byte{0x13, 0x57, 0x9B, 0xDF, 0x02, 0x46, 0x8A, 0xCE, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
	m := samplePurchase(t)
	fr, err := iso8583.AppendFrame(nil, m, mak)
	require.NoError(t, err)
	var d iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&d, fr))
	want, err := mac.X919(mak, d.MAB())
	require.NoError(t, err)
	require.Equal(t, want[:], d.Bytes(64))
	ecb := mac.ECB(mak, d.MAB())
	require.NotEqual(t, ecb[:], d.Bytes(64), "not the ECB MAC under 3DES")

	key, err := mac.NewMAK(mak)
	require.NoError(t, err)
	fr2, err := iso8583.AppendFrameKey(nil, m, key)
	require.NoError(t, err)
	require.Equal(t, fr, fr2)

	// The same Message back under the single-length MAK: ECB again.
	fr3, err := iso8583.AppendFrame(nil, m, sampleMAK)
	require.NoError(t, err)
	require.NoError(t, iso8583.DecodeFrame(&d, fr3))
	sum := mac.ECB(sampleMAK, d.MAB())
	require.Equal(t, sum[:], d.Bytes(64))

	_, err = iso8583.AppendFrame(nil, m, make([]byte, 24))
	require.ErrorIs(t, err, mac.ErrKeySize, "a session MAK is 8 or 16 bytes")
}

// The answer's MTI has four digits whatever the request's: a request's
// function digit becomes its response's; an odd one (a response, or 9)
// stays, where request + 10 would carry into the class digit or past 9999
// (FuzzEngineFrame found a 9999 request that got no answer at all).
func TestResponseMTIStaysFourDigits(t *testing.T) {
	for req, want := range map[iso8583.MTI]iso8583.MTI{
		100: 110, 200: 210, 220: 230, 400: 410, 500: 510, 800: 810, 820: 830,
		210: 210, 290: 290, 9999: 9999, 9998: 9998, 9980: 9990,
	} {
		require.Equal(t, want, req.Response(), "%s", req)
		require.LessOrEqual(t, req.Response(), iso8583.MTI(9999))
	}
}
