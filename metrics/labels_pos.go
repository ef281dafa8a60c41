package metrics

// The label enums below are indexes into the arrays of pre-curried series
// built by New. Each has an Other value: a value out of range (or a wire
// value the gateway does not know) is counted as "other", so a hostile or
// broken terminal cannot create new series.

// MTIClass is the request message type of a POS request.
type MTIClass uint8

// Request message types of the campus profile (pos-protocol.md).
const (
	MTI0100 MTIClass = iota
	MTI0200
	MTI0220
	MTI0400
	MTI0500
	MTI0800
	MTI0820
	MTIOther
	numMTIClasses
)

var mtiClassNames = [numMTIClasses]string{
	"0100", "0200", "0220", "0400", "0500", "0800", "0820", "other",
}

// ClassifyMTI maps a request MTI written as a decimal number (200 means
// "0200", the codec's iso8583.MTI) to its class. Response MTIs and unknown
// values are MTIOther: requests are counted by what the terminal asked.
func ClassifyMTI(mti uint16) MTIClass {
	switch mti {
	case 100:
		return MTI0100
	case 200:
		return MTI0200
	case 220:
		return MTI0220
	case 400:
		return MTI0400
	case 500:
		return MTI0500
	case 800:
		return MTI0800
	case 820:
		return MTI0820
	}
	return MTIOther
}

func (c MTIClass) clamp() MTIClass {
	if c >= numMTIClasses {
		return MTIOther
	}
	return c
}

// String is the label value.
func (c MTIClass) String() string { return mtiClassNames[c.clamp()] }

// RespCode is a field 39 response code of the campus profile.
type RespCode uint8

// Response codes of pos-protocol.md, in the order of its table.
const (
	RC00 RespCode = iota
	RC03
	RC12
	RC13
	RC14
	RC25
	RC30
	RC41
	RC51
	RC61
	RC62
	RC77
	RC91
	RC96
	RC98
	RCA0
	RCP1
	RCP2
	RCP3
	RCP4
	RCQ1
	RCQ2
	RCQ3
	RCQ4
	RCQ5
	RCQ6
	RCOther
	numRespCodes
)

var respCodeNames = [numRespCodes]string{
	"00", "03", "12", "13", "14", "25", "30", "41", "51", "61", "62", "77",
	"91", "96", "98", "A0", "P1", "P2", "P3", "P4",
	"Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "other",
}

// ClassifyRespCode maps the two ASCII characters of field 39 to a RespCode.
// It does not allocate (the compiler turns switch string(b) into byte
// comparisons), so the engine can call it with the answer's field 39.
func ClassifyRespCode(b []byte) RespCode {
	switch string(b) {
	case "00":
		return RC00
	case "03":
		return RC03
	case "12":
		return RC12
	case "13":
		return RC13
	case "14":
		return RC14
	case "25":
		return RC25
	case "30":
		return RC30
	case "41":
		return RC41
	case "51":
		return RC51
	case "61":
		return RC61
	case "62":
		return RC62
	case "77":
		return RC77
	case "91":
		return RC91
	case "96":
		return RC96
	case "98":
		return RC98
	case "A0":
		return RCA0
	case "P1":
		return RCP1
	case "P2":
		return RCP2
	case "P3":
		return RCP3
	case "P4":
		return RCP4
	case "Q1":
		return RCQ1
	case "Q2":
		return RCQ2
	case "Q3":
		return RCQ3
	case "Q4":
		return RCQ4
	case "Q5":
		return RCQ5
	case "Q6":
		return RCQ6
	}
	return RCOther
}

func (c RespCode) clamp() RespCode {
	if c >= numRespCodes {
		return RCOther
	}
	return c
}

// String is the label value.
func (c RespCode) String() string { return respCodeNames[c.clamp()] }

// CloseReason says why a POS connection ended.
type CloseReason uint8

// Close reasons.
const (
	CloseEOF        CloseReason = iota // the terminal closed
	CloseIdle                          // idle timeout
	CloseError                         // read or write error
	CloseCap                           // refused: connection cap reached
	CloseShutdown                      // gateway shutting down
	CloseProtocol                      // a frame that could not be answered (no readable header)
	CloseSlowReader                    // the terminal did not read its answers (back-pressure)
	CloseSlowFrame                     // a frame not complete within server.frame_timeout of its first byte
	CloseAddrLimit                     // refused: server.max_conns_per_addr reached for the source address
	CloseOther
	numCloseReasons
)

var closeReasonNames = [numCloseReasons]string{
	"eof", "idle", "error", "cap", "shutdown", "protocol", "slow_reader", "slow_frame", "addr_limit", "other",
}

func (r CloseReason) clamp() CloseReason {
	if r >= numCloseReasons {
		return CloseOther
	}
	return r
}

// String is the label value.
func (r CloseReason) String() string { return closeReasonNames[r.clamp()] }

// DecodeReason says why a frame or message could not be decoded. The
// engine maps the codec's sentinel errors (errors.Is) onto these.
type DecodeReason uint8

// Decode error reasons, one per codec sentinel error.
const (
	DecodeTooLarge     DecodeReason = iota // frame.ErrTooLarge: LEN above the maximum
	DecodeTooShort                         // frame.ErrTooShort: shorter than TPDU + header + MTI
	DecodeBitOne                           // iso8583.ErrBitOne: secondary bitmap announced
	DecodeNotInProfile                     // iso8583.ErrNotInProfile: a field the profile does not define
	DecodeFieldTooLong                     // iso8583.ErrTooLong: length prefix above the field maximum
	DecodeNotBCD                           // iso8583.ErrNotBCD: a nibble above 9
	DecodeTruncated                        // iso8583.ErrShort: the message ends inside a field
	DecodeTrailing                         // iso8583.ErrTrailing: bytes after the last field
	DecodeBadCharset                       // iso8583.ErrBadCharset: an/ans field with bytes outside its set
	DecodeOther
	numDecodeReasons
)

var decodeReasonNames = [numDecodeReasons]string{
	"too_large", "too_short", "bit_one", "not_in_profile", "field_too_long",
	"not_bcd", "truncated", "trailing", "bad_charset", "other",
}

func (r DecodeReason) clamp() DecodeReason {
	if r >= numDecodeReasons {
		return DecodeOther
	}
	return r
}

// String is the label value.
func (r DecodeReason) String() string { return decodeReasonNames[r.clamp()] }
