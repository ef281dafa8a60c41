package server

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The reasons' names appear in the server's logs.
func TestReasonNames(t *testing.T) {
	want := map[CloseReason]string{
		ClosePeer: "peer", CloseIdle: "idle", CloseSlowReader: "slow_reader", CloseReadOverflow: "read_overflow",
		CloseFrameError: "frame_error", CloseHandler: "handler_close", ClosePanic: "handler_panic",
		CloseShutdown: "shutdown", CloseOverCapacity: "over_capacity", CloseIOError: "io_error",
		CloseSlowFrame: "slow_frame", CloseAddrLimit: "addr_limit",
	}
	for r, name := range want {
		require.Equal(t, name, r.String())
	}
	require.Len(t, closeReasonNames, len(want)+1, "a close reason without a name")
	require.Equal(t, "CloseReason(0)", CloseReason(0).String())
	require.Equal(t, "CloseReason(200)", CloseReason(200).String())

	require.Equal(t, "too_large", FrameTooLarge.String())
	require.Equal(t, "too_short", FrameTooShort.String())
	require.Equal(t, "FrameReason(0)", FrameReason(0).String())
}
