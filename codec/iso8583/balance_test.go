package iso8583_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
)

func bal(acct string, amount int64) iso8583.Balance {
	b := iso8583.Balance{Amount: amount}
	copy(b.Account[:], acct)
	copy(b.Type[:], "02")
	copy(b.Currency[:], "156")
	return b
}

func TestAppendBalance(t *testing.T) {
	cases := []struct {
		name string
		b    iso8583.Balance
		want string
	}{
		{"credit", bal("10", 123456), "1002156C000000123456"},
		{"zero", bal("20", 0), "2002156C000000000000"},
		{"negative is D", bal("10", -250), "1002156D000000000250"},
		{"max", bal("10", 999999999999), "1002156C999999999999"},
		{"beyond 12 digits saturates", bal("10", 1_000_000_000_000), "1002156C999999999999"},
		{"min int64 saturates", bal("10", math.MinInt64), "1002156D999999999999"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := iso8583.AppendBalance(nil, tc.b)
			require.Equal(t, tc.want, string(got))
			require.Len(t, got, iso8583.BalanceSize)
		})
	}
}

func TestParseBalances(t *testing.T) {
	var v []byte
	v = iso8583.AppendBalance(v, bal("10", 5000))
	v = iso8583.AppendBalance(v, bal("20", -1))
	var store [2]iso8583.Balance
	got, err := iso8583.ParseBalances(v, store[:0])
	require.NoError(t, err)
	require.Equal(t, []iso8583.Balance{bal("10", 5000), bal("20", -1)}, got)

	// Through field 54 and back.
	var m iso8583.Message
	require.NoError(t, m.SetBytes(54, v))
	got, err = iso8583.ParseBalances(m.Bytes(54), nil)
	require.NoError(t, err)
	require.Len(t, got, 2)

	require.Zero(t, testing.AllocsPerRun(50, func() {
		_, _ = iso8583.ParseBalances(v, store[:0])
	}))
}

func TestParseBalancesRejects(t *testing.T) {
	cases := []struct {
		name string
		v    string
		off  int
		err  error
	}{
		{"partial block", "1002156C00000000000", 0, iso8583.ErrShort},
		{"second block partial", "1002156C000000000000" + "2002", 20, iso8583.ErrShort},
		{"bad sign", "1002156X000000000000", 7, iso8583.ErrBadCharset},
		{"letter in amount", "1002156C00000000000A", 19, iso8583.ErrBadCharset},
		{"letter in currency", "10021X6C000000000000", 5, iso8583.ErrBadCharset},
		{"space in account", " 002156C000000000000", 0, iso8583.ErrBadCharset},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := iso8583.ParseBalances([]byte(tc.v), nil)
			require.ErrorIs(t, err, tc.err)
			var fe *iso8583.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, 54, fe.Field)
			require.Equal(t, tc.off, fe.Offset)
		})
	}
}
