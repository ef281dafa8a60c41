package metrics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassifyMTI(t *testing.T) {
	for in, want := range map[uint16]string{
		100: "0100", 200: "0200", 220: "0220", 400: "0400", 500: "0500",
		800: "0800", 820: "0820", 210: "other", 0: "other", 9999: "other",
	} {
		require.Equal(t, want, ClassifyMTI(in).String(), in)
	}
}

func TestClassifyRespCode(t *testing.T) {
	for _, code := range []string{
		"00", "03", "12", "13", "14", "25", "30", "41", "51", "61", "62", "77",
		"91", "96", "98", "A0", "P1", "P2", "P3", "Q1", "Q2", "Q3", "Q4", "Q5", "Q6",
	} {
		require.Equal(t, code, ClassifyRespCode([]byte(code)).String())
	}
	for _, bad := range []string{"", "0", "a0", "q1", "06", "000", "\x00\x00"} {
		require.Equal(t, RCOther, ClassifyRespCode([]byte(bad)), "%q", bad)
	}
}

func TestClassifyChannel(t *testing.T) {
	require.Equal(t, ChannelCampus, ClassifyChannel([]byte("CAMPUS")))
	require.Equal(t, ChannelAlipay, ClassifyChannel([]byte("ALIPAY")))
	require.Equal(t, ChannelWeChat, ClassifyChannel([]byte("WECHAT")))
	require.Equal(t, ChannelUnionPay, ClassifyChannel([]byte("UNIONPAY")))
	require.Equal(t, "other", ClassifyChannel([]byte("PAYPAL")).String())
}

// TestLabelNamesBounded checks every enum's names: unique, non-empty, and
// out-of-range values fall back to "other".
func TestLabelNamesBounded(t *testing.T) {
	sets := map[string][]string{
		"mti": mtiClassNames[:], "code": respCodeNames[:], "close": closeReasonNames[:],
		"decode": decodeReasonNames[:], "campuscode": campusCodeResultNames[:],
		"channel": channelNames[:], "outcome": paymentOutcomeNames[:], "sink": sinkNames[:],
		"reader": readerStateNames[:],
	}
	for name, names := range sets {
		seen := map[string]bool{}
		for _, n := range names {
			require.NotEmpty(t, n, name)
			require.False(t, seen[n], "%s: duplicate %q", name, n)
			seen[n] = true
		}
		require.Equal(t, "other", names[len(names)-1], name)
	}
	require.Equal(t, "other", MTIClass(255).String())
	require.Equal(t, "other", RespCode(255).String())
	require.Equal(t, "other", CloseReason(255).String())
	require.Equal(t, "other", DecodeReason(255).String())
	require.Equal(t, "other", CampusCodeResult(255).String())
	require.Equal(t, "other", Channel(255).String())
	require.Equal(t, "other", PaymentOutcome(255).String())
	require.Equal(t, "other", Sink(255).String())
	require.Equal(t, "other", ReaderState(255).String())
	require.Equal(t, "unreachable", CentreState(255).String())
}

func BenchmarkRequest(b *testing.B) {
	m := New(BuildInfo{})
	code := []byte("00")
	b.ReportAllocs()
	for b.Loop() {
		m.Request(ClassifyMTI(200), ClassifyRespCode(code), 1500000)
	}
}
