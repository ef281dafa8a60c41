package posim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseMix(t *testing.T) {
	cases := []struct {
		name, in string
		want     Mix
		err      bool
	}{
		{"lunch peak", "card=60,code=25,wechat=5,alipay=5,wallet=2,inquiry=3", LunchPeak, false},
		{"spaces and case", " Card = 3 , echo=1 ", Mix{KindCard: 3, KindEcho: 1}, false},
		{"zero weight kept out", "card=1,code=0", Mix{KindCard: 1}, false},
		{"trailing comma", "inquiry=2,", Mix{KindInquiry: 2}, false},
		{"unknown kind", "card=1,unionpay=2", Mix{}, true},
		{"no equals", "card", Mix{}, true},
		{"negative", "card=-1", Mix{}, true},
		{"not a number", "card=x", Mix{}, true},
		{"too big", "card=1000001", Mix{}, true},
		{"twice", "card=1,card=2", Mix{}, true},
		{"all zero", "card=0", Mix{}, true},
		{"empty", "", Mix{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseMix(c.in)
			if c.err {
				require.ErrorIs(t, err, ErrMix)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			again, err := ParseMix(got.String())
			require.NoError(t, err)
			require.Equal(t, got, again, "String reads back")
		})
	}
}

func TestMixPick(t *testing.T) {
	m := Mix{KindCard: 2, KindWallet: 1, KindInquiry: 3}
	var got [numKinds]int
	for r := range m.Total() {
		got[m.Pick(r)]++
	}
	require.Equal(t, [numKinds]int(m), got, "each kind picked exactly its weight over one cycle")
	require.Equal(t, Mix{KindCard: 2, KindInquiry: 3}, m.Without(KindWallet))
	require.Equal(t, map[string]int{"card": 2, "wallet": 1, "inquiry": 3}, m.Map())
	require.Equal(t, "wallet", KindWallet.String())
	require.Equal(t, "kind(99)", Kind(99).String())
}

func TestPaymentCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		w := string(appendPaymentCode(nil, r, KindWeChat))
		require.Len(t, w, 18)
		require.Contains(t, []string{"10", "11", "12", "13", "14", "15"}, w[:2])
		a := string(appendPaymentCode(nil, r, KindAlipay))
		require.Len(t, a, 18)
		require.Contains(t, []string{"25", "26", "27", "28", "29", "30"}, a[:2])
		for _, code := range []string{w, a} {
			require.Regexp(t, `^[0-9]+[0-4]$`, code, "digits only, paid at once by the simulator")
		}
	}
}
