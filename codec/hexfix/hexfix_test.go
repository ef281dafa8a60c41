package hexfix_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/hexfix"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []byte
		err  error
	}{
		{"empty", "", []byte{}, nil},
		{"plain", "0a1B", []byte{0x0a, 0x1b}, nil},
		{"spaced and commented", "00 2E   # LEN\n60 0001 0000 # TPDU\r\n\t# only a comment\n", []byte{0x00, 0x2e, 0x60, 0x00, 0x01, 0x00, 0x00}, nil},
		{"digits pair across spaces", "0 2", []byte{0x02}, nil},
		{"comment hides hex", "01 # 02 03\n04", []byte{0x01, 0x04}, nil},
		{"odd digits", "012", nil, hexfix.ErrOddDigits},
		{"bad digit", "01\n0g", nil, hexfix.ErrBadDigit},
		{"0x prefix is not hex", "0x01", nil, hexfix.ErrBadDigit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hexfix.Parse([]byte(tc.in))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseBadDigitNamesLine(t *testing.T) {
	_, err := hexfix.Parse([]byte("00\n11\n2z"))
	require.ErrorContains(t, err, "line 3")
}

func TestParseDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.txt"), []byte("02 # two"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("01"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.md"), []byte("zz"), 0o600))
	got, err := hexfix.ParseDir(dir)
	require.NoError(t, err)
	require.Equal(t, []hexfix.Fixture{{Name: "a.txt", Bytes: []byte{1}}, {Name: "b.txt", Bytes: []byte{2}}}, got)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.txt"), []byte("0"), 0o600))
	_, err = hexfix.ParseDir(dir)
	require.ErrorIs(t, err, hexfix.ErrOddDigits)
	require.ErrorContains(t, err, "c.txt")

	got, err = hexfix.ParseDir(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	require.Empty(t, got)
}
