package logging

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMaskPAN(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"unionpay 19", "6217000012345678901", "621700*********8901"},
		{"bank 16", "6222021234567890", "622202******7890"},
		{"13 digits", "4123456789012", "412345***9012"},
		{"campus 12", "201900012345", "20******2345"},
		{"11 digits", "12345678901", "*********01"},
		{"6 digits", "123456", "****56"},
		{"5 digits", "12345", "*****"},
		{"empty", "", ""},
		{"non ascii", "卡号12345678", "**********"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := MaskPAN(c.in)
			require.Equal(t, c.want, got)
			require.Equal(t, len([]rune(c.in)), len([]rune(got)), "length stays visible")
		})
	}
}

func TestSanitize(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"nothing", "purchase approved amount=1500", "purchase approved amount=1500"},
		{"eleven digits stay", "stan 12345678901", "stan 12345678901"},
		{"card in text", "card 6217000012345678901 declined", "card 621700*********8901 declined"},
		{"campus card", "no=201900012345.", "no=20******2345."},
		{"two cards", "6222021234567890/6222029876543210", "622202******7890/622202******3210"},
		{"key hex upper", "mak 0123456789ABCDEF", "mak " + Redacted},
		{"key hex lower 32", "k=00112233445566778899aabbccddeeff!", "k=" + Redacted + "!"},
		{"short hex stays", "kcv 1A2B3C4D", "kcv 1A2B3C4D"},
		{"digits inside short hex run", "a201900012345", "a20******2345"},
		{"masked stays", "621700*********8901", "621700*********8901"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, Sanitize(c.in))
		})
	}
}

func TestSanitizeNoAllocWhenClean(t *testing.T) {
	s := strings.Repeat("terminal 00000001 approved 00 ", 4)
	allocs := testing.AllocsPerRun(100, func() { _ = Sanitize(s) })
	require.Zero(t, allocs)
}

// FuzzSanitize is seeded from testdata/fuzz/FuzzSanitize: log lines with
// card numbers, keys and near misses.
func FuzzSanitize(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		require.False(t, needsSanitize(out), "output of Sanitize must be clean: %q", out)
		require.Equal(t, out, Sanitize(out), "Sanitize must be idempotent")
		// The digits the output still shows never form a run of 12 or
		// more, so no card number survives.
		run := 0
		for i := 0; i < len(out); i++ {
			if out[i] >= '0' && out[i] <= '9' {
				run++
				require.Less(t, run, minDigitRun, "digit run survived in %q", out)
			} else {
				run = 0
			}
		}
	})
}
