package txn

// Response codes (field 39), as pos-protocol.md lists them.
const (
	RCApproved       = "00"
	RCUnknownTerm    = "03"
	RCNotAllowed     = "12"
	RCBadAmount      = "13"
	RCUnknownCard    = "14"
	RCNoOriginal     = "25"
	RCFormat         = "30"
	RCLost           = "41"
	RCInsufficient   = "51"
	RCOverLimit      = "61"
	RCFrozen         = "62"
	RCSignIn         = "77"
	RCCentreDown     = "91"
	RCSystem         = "96"
	RCPayUnresolved  = "98"
	RCMAC            = "A0"
	RCNotBound       = "P1"
	RCChannelDecline = "P2"
	RCUnknownCode    = "P3"
	RCReplay         = "Q4"
	RCInactive       = "Q6"
)

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
