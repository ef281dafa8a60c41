package iso8583_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
)

func TestSetRejects(t *testing.T) {
	cases := []struct {
		name string
		set  func(m *iso8583.Message) error
		err  error
	}{
		{"field 1", func(m *iso8583.Message) error { return m.SetString(1, "x") }, iso8583.ErrNotInProfile},
		{"field 5", func(m *iso8583.Message) error { return m.SetUint(5, 1) }, iso8583.ErrNotInProfile},
		{"field 65", func(m *iso8583.Message) error { return m.SetBytes(65, nil) }, iso8583.ErrNotInProfile},
		{"negative field", func(m *iso8583.Message) error { return m.SetDigits(-1, nil) }, iso8583.ErrNotInProfile},
		{"SetUint on ans", func(m *iso8583.Message) error { return m.SetUint(41, 1) }, iso8583.ErrType},
		{"SetDigits on b", func(m *iso8583.Message) error { return m.SetDigits(55, []byte("12")) }, iso8583.ErrType},
		{"amount too big", func(m *iso8583.Message) error { return m.SetUint(4, 1_000_000_000_000) }, iso8583.ErrTooLong},
		{"fixed n short", func(m *iso8583.Message) error { return m.SetString(3, "31000") }, iso8583.ErrShort},
		{"fixed n long", func(m *iso8583.Message) error { return m.SetString(3, "3100000") }, iso8583.ErrTooLong},
		{"n not digits", func(m *iso8583.Message) error { return m.SetString(4, "00000000012a") }, iso8583.ErrBadCharset},
		{"PAN too long", func(m *iso8583.Message) error { return m.SetString(2, strings.Repeat("1", 20)) }, iso8583.ErrTooLong},
		{"fixed ans short", func(m *iso8583.Message) error { return m.SetString(41, "POS1") }, iso8583.ErrShort},
		{"fixed an long", func(m *iso8583.Message) error { return m.SetString(39, "000") }, iso8583.ErrTooLong},
		{"ans control char", func(m *iso8583.Message) error { return m.SetString(63, "NET:\n1") }, iso8583.ErrBadCharset},
		{"ans UTF-8", func(m *iso8583.Message) error { return m.SetString(63, "电费") }, iso8583.ErrBadCharset},
		{"63 above max", func(m *iso8583.Message) error { return m.SetString(63, strings.Repeat("A", 164)) }, iso8583.ErrTooLong},
		{"62 above max", func(m *iso8583.Message) error { return m.SetBytes(62, make([]byte, 513)) }, iso8583.ErrTooLong},
		{"MAC wrong size", func(m *iso8583.Message) error { return m.SetBytes(64, make([]byte, 4)) }, iso8583.ErrShort},
		{"F60 bad length", func(m *iso8583.Message) error { return m.SetF60(iso8583.F60{Len: 5}) }, iso8583.ErrSubfield},
		{"F60 network beyond Len", func(m *iso8583.Message) error { return m.SetF60(iso8583.F60{Network: 3, Len: 8}) }, iso8583.ErrSubfield},
		{"F60 batch beyond Len", func(m *iso8583.Message) error { return m.SetF60(iso8583.F60{Batch: 1, Len: 2}) }, iso8583.ErrSubfield},
		{"F60 batch too big", func(m *iso8583.Message) error { return m.SetF60(iso8583.F60{Batch: 1_000_000}) }, iso8583.ErrTooLong},
		{"F60 type too big", func(m *iso8583.Message) error { return m.SetF60(iso8583.F60{MsgType: 100}) }, iso8583.ErrTooLong},
		{"F60 network too big", func(m *iso8583.Message) error { return m.SetF60(iso8583.F60{Network: 1000}) }, iso8583.ErrTooLong},
		{"F61 STAN too big", func(m *iso8583.Message) error { return m.SetF61(iso8583.F61{STAN: 1_000_000}) }, iso8583.ErrTooLong},
		{"F61 date too big", func(m *iso8583.Message) error { return m.SetF61(iso8583.F61{Date: 10000}) }, iso8583.ErrTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m iso8583.Message
			err := tc.set(&m)
			require.ErrorIs(t, err, tc.err)
			require.Zero(t, countFields(&m), "a rejected value sets nothing")
		})
	}
}

func countFields(m *iso8583.Message) int {
	n := 0
	for f := 1; f <= 64; f++ {
		if m.Has(f) {
			n++
		}
	}
	return n
}

func TestSetEncodings(t *testing.T) {
	cases := []struct {
		name string
		set  func(m *iso8583.Message) error
		f    int
		raw  string // hex of the wire value
	}{
		{"SetUint fixed zero-fills", func(m *iso8583.Message) error { return m.SetUint(4, 1) }, 4, "000000000001"},
		{"SetUint variable uses few digits", func(m *iso8583.Message) error { return m.SetUint(2, 12345) }, 2, "123450"},
		{"SetUint zero variable", func(m *iso8583.Message) error { return m.SetUint(48, 0) }, 48, "00"},
		{"field 22 left-aligned", func(m *iso8583.Message) error { return m.SetString(22, "031") }, 22, "0310"},
		{"SetDigits", func(m *iso8583.Message) error { return m.SetDigits(13, []byte("0229")) }, 13, "0229"},
		{"SetBytes on n takes digits", func(m *iso8583.Message) error { return m.SetBytes(11, []byte("000042")) }, 11, "000042"},
		{"ans", func(m *iso8583.Message) error { return m.SetString(44, "CAMPUS") }, 44, "43414D505553"},
		{"F61 all 16 digits", func(m *iso8583.Message) error {
			return m.SetF61(iso8583.F61{Batch: 12, STAN: 345, Date: 1126})
		}, 61, "0000120003451126"},
		{"F60 two digits", func(m *iso8583.Message) error { return m.SetF60(iso8583.F60{MsgType: 22, Len: 2}) }, 60, "22"},
		{"F60 default all", func(m *iso8583.Message) error { return m.SetF60(iso8583.F60{Network: 390}) }, 60, "000000003900"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m iso8583.Message
			require.NoError(t, tc.set(&m))
			require.Equal(t, unhex(t, tc.raw), m.Raw(tc.f))
		})
	}
}

func TestSetOverwriteAndUnset(t *testing.T) {
	var m iso8583.Message
	require.NoError(t, m.SetString(39, "00"))
	require.NoError(t, m.SetString(39, "51"))
	require.Equal(t, "51", string(m.Bytes(39)))
	m.Unset(39)
	m.Unset(39)
	m.Unset(99)
	require.False(t, m.Has(39))
	require.False(t, m.Has(0))
	require.False(t, m.Has(65))

	// A value set from a slice the caller reuses is a copy.
	v := []byte("CAMPUS")
	require.NoError(t, m.SetBytes(44, v))
	copy(v, "XXXXXX")
	require.Equal(t, "CAMPUS", string(m.Bytes(44)))
	// Values never reach into each other through capacity.
	b := m.Bytes(44)
	require.Equal(t, len(b), cap(b))
}

func TestArenaGrowthKeepsValues(t *testing.T) {
	var m iso8583.Message
	require.NoError(t, m.SetString(63, strings.Repeat("a", 163)))
	require.NoError(t, m.SetBytes(62, make([]byte, 512))) // forces the arena to grow
	require.NoError(t, m.SetBytes(55, make([]byte, 255)))
	require.Equal(t, strings.Repeat("a", 163), string(m.Bytes(63)))
	// Setting a field from another field's own bytes is safe across growth.
	require.NoError(t, m.SetBytes(44, m.Bytes(63)[:25]))
	require.Equal(t, strings.Repeat("a", 25), string(m.Bytes(44)))
}

func TestAppendRejectsBadMTI(t *testing.T) {
	m := samplePurchase(t)
	m.MTI = 10000
	out, err := iso8583.Append([]byte("x"), m)
	require.ErrorIs(t, err, iso8583.ErrTooLong)
	require.Equal(t, "x", string(out))
	out, err = iso8583.AppendFrame([]byte("x"), m, sampleMAK)
	require.ErrorIs(t, err, iso8583.ErrTooLong)
	require.Equal(t, "x", string(out))
	require.Equal(t, "????", m.MTI.String())
}

func TestSubfieldRejects(t *testing.T) {
	var m iso8583.Message
	_, err := m.F60()
	require.ErrorIs(t, err, iso8583.ErrAbsent)
	_, err = m.F61()
	require.ErrorIs(t, err, iso8583.ErrAbsent)
	require.NoError(t, m.SetString(60, "2200001"))
	_, err = m.F60()
	require.ErrorIs(t, err, iso8583.ErrSubfield)
	require.NoError(t, m.SetString(61, "00001200034"))
	_, err = m.F61()
	require.ErrorIs(t, err, iso8583.ErrSubfield)
}

func TestF61(t *testing.T) {
	var m iso8583.Message
	in := iso8583.F61{Batch: 999999, STAN: 1, Date: 1231}
	require.NoError(t, m.SetF61(in))
	got, err := m.F61()
	require.NoError(t, err)
	require.Equal(t, in, got)
	require.NoError(t, m.SetString(61, "000012000345"))
	got, err = m.F61()
	require.NoError(t, err)
	require.Equal(t, iso8583.F61{Batch: 12, STAN: 345}, got)
}

func TestF60RoundTrip(t *testing.T) {
	for _, in := range []iso8583.F60{
		{MsgType: 22, Len: 2},
		{MsgType: 22, Batch: 654321, Len: 8},
		{MsgType: 99, Batch: 999999, Network: 999, Len: 11},
	} {
		var m iso8583.Message
		require.NoError(t, m.SetF60(in))
		got, err := m.F60()
		require.NoError(t, err)
		require.Equal(t, in, got)
	}
}
