package daemon

import (
	"ecardgw/gateway/server"
	"ecardgw/metrics"
)

// closeReason maps the server's close reasons to the
// ecardgw_pos_connections_closed_total reason labels. The labels are a
// contract (README, docs/metrics.md, the alert rules), so several
// server reasons share one.
func closeReason(r server.CloseReason) metrics.CloseReason {
	switch r {
	case server.ClosePeer:
		return metrics.CloseEOF
	case server.CloseIdle:
		return metrics.CloseIdle
	case server.CloseIOError, server.ClosePanic:
		return metrics.CloseError
	case server.CloseOverCapacity:
		return metrics.CloseCap
	case server.CloseShutdown:
		return metrics.CloseShutdown
	case server.CloseFrameError, server.CloseHandler, server.CloseReadOverflow:
		return metrics.CloseProtocol
	case server.CloseSlowReader:
		return metrics.CloseSlowReader
	case server.CloseSlowFrame:
		return metrics.CloseSlowFrame
	case server.CloseAddrLimit:
		return metrics.CloseAddrLimit
	}
	return metrics.CloseOther
}

// frameReason maps the server's frame errors to the decode error labels.
func frameReason(r server.FrameReason) metrics.DecodeReason {
	switch r {
	case server.FrameTooLarge:
		return metrics.DecodeTooLarge
	case server.FrameTooShort:
		return metrics.DecodeTooShort
	}
	return metrics.DecodeOther
}
