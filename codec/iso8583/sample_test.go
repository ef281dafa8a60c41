package iso8583_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/tlv"
)

// sampleMAK is a test working key, single DES.
var sampleMAK = []byte{0x13, 0x57, 0x9B, 0xDF, 0x02, 0x46, 0x8A, 0xCE}

var sampleHeader = frame.Header{
	TPDU: [5]byte{0x60, 0x00, 0x03, 0x00, 0x00},
	Head: [6]byte{0x60, 0x31, 0x00, 0x31, 0x00, 0x00},
}

func sampleCardData() []byte {
	var b []byte
	b = tlv.Append(b, 0xDF01, []byte{0x04, 0xA1, 0xB2, 0xC3})
	b = tlv.Append(b, 0xDF02, []byte{0x10, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x90})
	b = tlv.Append(b, 0xDF03, []byte{0, 0, 0, 0, 0, 0x01, 0xE2, 0x40})
	return b
}

// fillPurchase sets a 0200 card purchase (fields 2, 3, 4, 11, 12, 13, 22,
// 25, 41, 42, 49, 55, 60; the MAC is added by AppendFrame) and reports
// the first error.
func fillPurchase(m *iso8583.Message, card []byte) error {
	m.Reset()
	m.Header = sampleHeader
	m.MTI = 200
	for _, err := range []error{
		m.SetString(2, "123456789012"),
		m.SetUint(3, 0),
		m.SetUint(4, 1250),
		m.SetUint(11, 123),
		m.SetString(12, "143015"),
		m.SetString(13, "1126"),
		m.SetString(22, "071"),
		m.SetString(25, "00"),
		m.SetString(41, "POS00001"),
		m.SetString(42, "123456789012345"),
		m.SetString(49, "156"),
		m.SetBytes(55, card),
		m.SetF60(iso8583.F60{MsgType: 22, Batch: 1, Network: 0, Len: 11}),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func samplePurchase(t testing.TB) *iso8583.Message {
	t.Helper()
	m := new(iso8583.Message)
	require.NoError(t, fillPurchase(m, sampleCardData()))
	return m
}

// samplePurchaseFrame is the whole frame of samplePurchase, MAC included.
func samplePurchaseFrame(t testing.TB) []byte {
	t.Helper()
	b, err := iso8583.AppendFrame(nil, samplePurchase(t), sampleMAK)
	require.NoError(t, err)
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}
