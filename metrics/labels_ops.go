package metrics

// CampusCodeResult is the outcome of verifying a campus code, one per
// verification step of campus-code.md (each has its own response code).
type CampusCodeResult uint8

// Campus code results.
const (
	CampusCodeOK              CampusCodeResult = iota
	CampusCodeMalformed                        // prefix, Base45, length, version (Q1)
	CampusCodeIssuerSignature                  // certificate signature invalid (Q2)
	CampusCodeUserSignature                    // code signature invalid (Q2)
	CampusCodeCertExpired                      // certificate outside not-before..not-after (Q3)
	CampusCodeStale                            // generated-at older than validity (Q3)
	CampusCodeFuture                           // generated-at beyond the allowed skew (Q3)
	CampusCodeReplay                           // already accepted (Q4)
	CampusCodeUnknownKey                       // issuer key id not in the ring (Q5)
	CampusCodeRevokedKey                       // issuer key revoked (Q5)
	CampusCodeKeyExpired                       // issuer key outside its own validity (Q5)
	CampusCodeAlgDisabled                      // algorithm not enabled in configuration (Q1)
	CampusCodeInactive                         // electronic card not active yet (Q6)
	CampusCodeOther
	numCampusCodeResults
)

var campusCodeResultNames = [numCampusCodeResults]string{
	"ok", "malformed", "issuer_signature", "user_signature", "cert_expired",
	"stale", "future", "replay", "unknown_key", "revoked_key", "key_expired",
	"alg_disabled", "inactive", "other",
}

func (r CampusCodeResult) clamp() CampusCodeResult {
	if r >= numCampusCodeResults {
		return CampusCodeOther
	}
	return r
}

// String is the label value.
func (r CampusCodeResult) String() string { return campusCodeResultNames[r.clamp()] }

// Channel is the payment channel of field 44.
type Channel uint8

// Channels.
const (
	ChannelCampus Channel = iota
	ChannelAlipay
	ChannelWeChat
	ChannelUnionPay
	ChannelOther
	numChannels
)

var channelNames = [numChannels]string{"campus", "alipay", "wechat", "unionpay", "other"}

// ClassifyChannel maps the field 44 text (CAMPUS, ALIPAY, WECHAT, UNIONPAY)
// to a Channel without allocating.
func ClassifyChannel(b []byte) Channel {
	switch string(b) {
	case "CAMPUS":
		return ChannelCampus
	case "ALIPAY":
		return ChannelAlipay
	case "WECHAT":
		return ChannelWeChat
	case "UNIONPAY":
		return ChannelUnionPay
	}
	return ChannelOther
}

func (c Channel) clamp() Channel {
	if c >= numChannels {
		return ChannelOther
	}
	return c
}

// String is the label value.
func (c Channel) String() string { return channelNames[c.clamp()] }

// PaymentOutcome is how a third-party payment (or top-up charge) ended.
type PaymentOutcome uint8

// Payment outcomes.
const (
	PaymentApproved    PaymentOutcome = iota // channel confirmed (00)
	PaymentDeclined                          // channel declined (P2)
	PaymentNotBound                          // wallet not bound to the campus card (P1)
	PaymentTimedOut                          // unresolved in time, cancelled (98)
	PaymentUnavailable                       // centre or payment service unreachable (91)
	PaymentError                             // anything else that failed (96)
	PaymentBusy                              // too many payments pending: refused at once (P4)
	PaymentReversed                          // reversed while it was being paid
	PaymentRefunded                          // a third-party refund the channel confirmed
	PaymentOther
	numPaymentOutcomes
)

var paymentOutcomeNames = [numPaymentOutcomes]string{
	"approved", "declined", "not_bound", "timed_out", "unavailable", "error", "busy", "reversed", "refunded", "other",
}

func (o PaymentOutcome) clamp() PaymentOutcome {
	if o >= numPaymentOutcomes {
		return PaymentOther
	}
	return o
}

// String is the label value.
func (o PaymentOutcome) String() string { return paymentOutcomeNames[o.clamp()] }

// Sink is where the forwarder delivers journal records.
type Sink uint8

// Sinks.
const (
	SinkCentre    Sink = iota // the centre's HTTP record delivery
	SinkJetStream             // a NATS JetStream stream
	SinkOther
	numSinks
)

var sinkNames = [numSinks]string{"centre", "jetstream", "other"}

func (s Sink) clamp() Sink {
	if s >= numSinks {
		return SinkOther
	}
	return s
}

// String is the label value.
func (s Sink) String() string { return sinkNames[s.clamp()] }

// ReaderState is the state of a PC/SC card reader.
type ReaderState uint8

// Reader states.
const (
	ReaderEmpty       ReaderState = iota // no card
	ReaderPresent                        // a card is present and usable
	ReaderInUse                          // a card is present, in use by the gateway
	ReaderMute                           // a card is present but does not answer
	ReaderUnavailable                    // the reader is gone or PC/SC reports it unusable
	ReaderOther
	numReaderStates
)

var readerStateNames = [numReaderStates]string{
	"empty", "present", "in_use", "mute", "unavailable", "other",
}

func (s ReaderState) clamp() ReaderState {
	if s >= numReaderStates {
		return ReaderOther
	}
	return s
}

// String is the label value.
func (s ReaderState) String() string { return readerStateNames[s.clamp()] }

// CentreState is the gateway's view of the card centre.
type CentreState uint8

// Centre states. In standalone mode there is no centre and the state stays
// CentreStandalone, so the "centre unreachable" alert cannot fire there.
const (
	CentreStandalone  CentreState = iota // standalone mode: no centre
	CentreReachable                      // connected mode, centre answering
	CentreUnreachable                    // connected mode, centre not answering: stand-in
	numCentreStates
)

var centreStateNames = [numCentreStates]string{"standalone", "reachable", "unreachable"}

// String is the label value; an out-of-range value reads "unreachable"
// because that is the state an operator must not miss.
func (s CentreState) String() string {
	if s >= numCentreStates {
		return centreStateNames[CentreUnreachable]
	}
	return centreStateNames[s]
}
