package metrics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRoundTrips(t *testing.T) {
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
	require.Equal(t, DecodeOther, ParseDecodeReason(""))
	require.Equal(t, CampusCodeOther, ParseCampusCodeResult("REPLAY"))
	require.Equal(t, PaymentOther, ParsePaymentOutcome("ok"))
}

func TestParseDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = ParseDecodeReason("bad_charset")
		_ = ParseCampusCodeResult("inactive")
		_ = ParsePaymentOutcome("timed_out")
	})
	require.Zero(t, allocs)
}
