package campuscode

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// RFC 9285 section 4.3 and 4.4 examples.
var base45Vectors = []struct{ raw, text string }{
	{"AB", "BB8"},
	{"Hello!!", "%69 VD92EX0"},
	{"base-45", "UJCLQE7W581"},
	{"ietf!", "QED8WEX0"},
	{"", ""},
	{"\x00", "00"},
	{"\xff", "U5"},
	{"\xff\xff", "FGW"},
}

func TestBase45Vectors(t *testing.T) {
	for _, v := range base45Vectors {
		t.Run(v.text, func(t *testing.T) {
			require.Equal(t, v.text, string(AppendBase45(nil, []byte(v.raw))))
			got, err := AppendBase45Decode(nil, []byte(v.text))
			require.NoError(t, err)
			require.Equal(t, v.raw, string(got))
			require.Equal(t, len(v.text), Base45EncodedLen(len(v.raw)))
			n, ok := Base45DecodedLen(len(v.text))
			require.True(t, ok)
			require.Equal(t, len(v.raw), n)
		})
	}
}

func TestBase45Rejects(t *testing.T) {
	cases := []struct {
		name, text string
		want       error
	}{
		{"lower case", "bb8", errB45Char},
		{"not in alphabet", "BB#", errB45Char},
		{"non ascii", "BB\xc3", errB45Char},
		{"pair bad char", "B=", errB45Char},
		{"length 1", "B", errB45Len},
		{"length 4", "BB8B", errB45Len},
		{"triple above 65535", "GGW", errB45Range}, // 16+16*45+32*2025 = 65536
		{"max triple", ":::", errB45Range},
		{"pair above 255", "V5", errB45Range}, // 31+5*45 = 256
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := AppendBase45Decode(nil, []byte(c.text))
			require.ErrorIs(t, err, c.want)
			require.True(t, errors.Is(err, ErrMalformed))
		})
	}
}

func TestBase45RoundTripAllPairs(t *testing.T) {
	// Every 2-byte value and every 1-byte value: encoding is a bijection.
	for n := 0; n <= 0xFFFF; n++ {
		raw := []byte{byte(n >> 8), byte(n)}
		got, err := AppendBase45Decode(nil, AppendBase45(nil, raw))
		require.NoError(t, err)
		require.Equal(t, raw, got)
	}
	for n := 0; n <= 0xFF; n++ {
		got, err := AppendBase45Decode(nil, AppendBase45(nil, []byte{byte(n)}))
		require.NoError(t, err)
		require.Equal(t, []byte{byte(n)}, got)
	}
}
