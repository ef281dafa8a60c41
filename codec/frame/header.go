package frame

// Header is the TPDU and application header that precede the MTI.
type Header struct {
	// TPDU is ID (0x60), destination (2), source (2).
	TPDU [5]byte
	// Head is application type, version, terminal status and processing
	// requirement (one byte, high and low nibble), sub-version (3).
	Head [6]byte
}

// Reply returns the header of an answer to h: TPDU destination and source
// swapped, the rest of the header copied, and the processing requirement
// (low nibble of Head[2]) set to procReq to tell the terminal what to do
// next (0 nothing, 3 sign in again, 6 download the blacklist).
func (h Header) Reply(procReq byte) Header {
	r := h
	r.TPDU[1], r.TPDU[2] = h.TPDU[3], h.TPDU[4]
	r.TPDU[3], r.TPDU[4] = h.TPDU[1], h.TPDU[2]
	r.Head[2] = h.Head[2]&0xF0 | procReq&0x0F
	return r
}

// ProcessingRequirement is the low nibble of the terminal status byte.
func (h Header) ProcessingRequirement() byte { return h.Head[2] & 0x0F }

// TestTerminal reports whether the terminal status (high nibble of Head[2])
// says the terminal is in test mode.
func (h Header) TestTerminal() bool { return h.Head[2]>>4 == 1 }
