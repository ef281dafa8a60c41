package daemon

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/server"
)

// Every server close reason counts under its metric label; the labels are
// the contract the dashboards and alert rules read.
func TestCloseReasonLabels(t *testing.T) {
	want := map[server.CloseReason]string{
		server.ClosePeer:         "eof",
		server.CloseIdle:         "idle",
		server.CloseIOError:      "error",
		server.ClosePanic:        "error",
		server.CloseOverCapacity: "cap",
		server.CloseShutdown:     "shutdown",
		server.CloseFrameError:   "protocol",
		server.CloseHandler:      "protocol",
		server.CloseReadOverflow: "protocol",
		server.CloseSlowReader:   "slow_reader",
		server.CloseSlowFrame:    "slow_frame",
		server.CloseAddrLimit:    "addr_limit",
	}
	for r, label := range want {
		require.Equal(t, label, closeReason(r).String(), r.String())
	}
	require.Equal(t, "other", closeReason(0).String())
	for r := server.CloseReason(1); r != 0; r++ {
		if !strings.HasPrefix(r.String(), "CloseReason(") {
			require.Contains(t, want, r, "server close reason %v is missing here", r)
		}
	}
}

func TestFrameReasonLabels(t *testing.T) {
	require.Equal(t, "too_large", frameReason(server.FrameTooLarge).String())
	require.Equal(t, "too_short", frameReason(server.FrameTooShort).String())
	require.Equal(t, "other", frameReason(0).String())
}
