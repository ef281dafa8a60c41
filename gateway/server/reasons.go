package server

import "strconv"

// CloseReason says why a connection was closed, or refused at accept. It
// is what Hooks.OnClose and Hooks.OnReject report; the set is closed, so a
// caller can map each reason to a metric label. The zero value is no
// reason.
type CloseReason uint8

// Close reasons.
const (
	ClosePeer         CloseReason = iota + 1 // the terminal closed or reset the connection
	CloseIdle                                // nothing received for IdleTimeout
	CloseSlowReader                          // answers piled up beyond MaxPendingWrite
	CloseReadOverflow                        // sent too far ahead while paused (MaxPendingRead)
	CloseFrameError                          // LEN out of bounds (Hooks.OnFrameError says how)
	CloseHandler                             // the Handler asked to close after its answer
	ClosePanic                               // the Handler panicked; the connection is dropped
	CloseShutdown                            // Shutdown closed it, or refused it while draining
	CloseOverCapacity                        // refused at accept: MaxConns reached
	CloseIOError                             // a socket error other than a clean close
	CloseSlowFrame                           // a frame not complete within FrameTimeout of its first byte
	CloseAddrLimit                           // refused at accept: MaxConnsPerAddr reached for the source address
)

var closeReasonNames = [...]string{
	ClosePeer:         "peer",
	CloseIdle:         "idle",
	CloseSlowReader:   "slow_reader",
	CloseReadOverflow: "read_overflow",
	CloseFrameError:   "frame_error",
	CloseHandler:      "handler_close",
	ClosePanic:        "handler_panic",
	CloseShutdown:     "shutdown",
	CloseOverCapacity: "over_capacity",
	CloseIOError:      "io_error",
	CloseSlowFrame:    "slow_frame",
	CloseAddrLimit:    "addr_limit",
}

// String is the reason's name in logs ("peer", "idle", ...).
func (r CloseReason) String() string {
	if int(r) < len(closeReasonNames) && closeReasonNames[r] != "" {
		return closeReasonNames[r]
	}
	return "CloseReason(" + strconv.Itoa(int(r)) + ")"
}

// FrameReason says what was wrong with a frame's LEN; Hooks.OnFrameError
// reports it, and the connection then closes with CloseFrameError.
type FrameReason uint8

// Frame errors.
const (
	FrameTooLarge FrameReason = iota + 1 // LEN above MaxFrame
	FrameTooShort                        // LEN below the TPDU+header size
)

// String is the frame error's name in logs ("too_large", "too_short").
func (r FrameReason) String() string {
	switch r {
	case FrameTooLarge:
		return "too_large"
	case FrameTooShort:
		return "too_short"
	}
	return "FrameReason(" + strconv.Itoa(int(r)) + ")"
}
