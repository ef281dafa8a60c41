package metrics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRoundTrips(t *testing.T) {
	for v := range numRespCodes {
		require.Equal(t, v, ParseRespCode(v.String()))
	}
	for v := range numChannels {
		require.Equal(t, v, ParseChannel(v.String()))
	}
	for v := range numCloseReasons {
		require.Equal(t, v, ParseCloseReason(v.String()))
	}
	for v := range numDecodeReasons {
		require.Equal(t, v, ParseDecodeReason(v.String()))
	}
	for v := range numCampusCodeResults {
		require.Equal(t, v, ParseCampusCodeResult(v.String()))
	}
	for v := range numPaymentOutcomes {
		require.Equal(t, v, ParsePaymentOutcome(v.String()))
	}
}

func TestParseUnknownIsOther(t *testing.T) {
	require.Equal(t, RCOther, ParseRespCode("6217000012345678901"))
	require.Equal(t, ChannelWeChat, ParseChannel("WECHAT"))
	require.Equal(t, ChannelOther, ParseChannel("PAYPAL"))
	require.Equal(t, CloseOther, ParseCloseReason("peer"))
	require.Equal(t, DecodeOther, ParseDecodeReason(""))
	require.Equal(t, CampusCodeOther, ParseCampusCodeResult("REPLAY"))
	require.Equal(t, PaymentOther, ParsePaymentOutcome("ok"))
}

func TestParseDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = ParseRespCode("Q4")
		_ = ParseChannel("UNIONPAY")
		_ = ParseDecodeReason("bad_charset")
		_ = ParseCampusCodeResult("inactive")
		_ = ParsePaymentOutcome("timed_out")
	})
	require.Zero(t, allocs)
}
