package txn

// RC is a response code, the two characters of field 39. The engine's own
// codes are the constants below (pos-protocol.md lists them); in connected
// mode the centre's code is passed on as it came.
type RC string

// Response codes (field 39), as pos-protocol.md lists them.
const (
	RCApproved       RC = "00"
	RCUnknownTerm    RC = "03"
	RCNotAllowed     RC = "12"
	RCBadAmount      RC = "13"
	RCUnknownCard    RC = "14"
	RCNoOriginal     RC = "25"
	RCFormat         RC = "30"
	RCLost           RC = "41"
	RCInsufficient   RC = "51"
	RCOverLimit      RC = "61"
	RCFrozen         RC = "62"
	RCSignIn         RC = "77"
	RCCentreDown     RC = "91"
	RCDuplicate      RC = "94" // same key, other content (retransmit.go)
	RCSystem         RC = "96"
	RCPayUnresolved  RC = "98"
	RCMAC            RC = "A0"
	RCNotBound       RC = "P1"
	RCChannelDecline RC = "P2"
	RCUnknownCode    RC = "P3"
	RCCodeMalformed  RC = "Q1" // campus code: see campuscode.ResponseCode for Q1–Q6
	RCCodeSignature  RC = "Q2"
	RCCodeExpired    RC = "Q3"
	RCReplay         RC = "Q4"
	RCCodeKey        RC = "Q5"
	RCInactive       RC = "Q6"
)

// knownRC returns the constant for the response code in b, so that reading
// one from a stored answer does not allocate; an unknown code (passed on
// from the centre) is copied.
func knownRC(b []byte) RC {
	switch string(b) {
	case "00":
		return RCApproved
	case "03":
		return RCUnknownTerm
	case "12":
		return RCNotAllowed
	case "13":
		return RCBadAmount
	case "14":
		return RCUnknownCard
	case "25":
		return RCNoOriginal
	case "30":
		return RCFormat
	case "41":
		return RCLost
	case "51":
		return RCInsufficient
	case "61":
		return RCOverLimit
	case "62":
		return RCFrozen
	case "77":
		return RCSignIn
	case "91":
		return RCCentreDown
	case "94":
		return RCDuplicate
	case "96":
		return RCSystem
	case "98":
		return RCPayUnresolved
	case "A0":
		return RCMAC
	case "P1":
		return RCNotBound
	case "P2":
		return RCChannelDecline
	case "P3":
		return RCUnknownCode
	case "P4":
		return RCPayBusy
	case "Q1":
		return RCCodeMalformed
	case "Q2":
		return RCCodeSignature
	case "Q3":
		return RCCodeExpired
	case "Q4":
		return RCReplay
	case "Q5":
		return RCCodeKey
	case "Q6":
		return RCInactive
	}
	return RC(b)
}

// Processing codes (field 3).
const (
	PCPurchase = 0
	PCRefund   = 200000
	PCLoad     = 190000
	PCTopUp    = 210000
	PCFee      = 170000
	PCBalance  = 310000
	PCSync     = 330000
	PCHistory  = 300000
)

// Message type indicators handled here.
const (
	mti0100 = 100
	mti0200 = 200
	mti0220 = 220
	mti0400 = 400
	mti0500 = 500
	mti0800 = 800
	mti0820 = 820
)

// Network management codes (field 60.3).
const (
	nmSignIn    = 3
	nmSignOut   = 2
	nmEcho      = 301
	nmBlacklist = 390
)

// Header processing requirements (low nibble of header byte 3).
const (
	procNone      = 0
	procSignIn    = 3
	procBlacklist = 6
)
