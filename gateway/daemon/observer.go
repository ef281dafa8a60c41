package daemon

import (
	"time"

	"ecardgw/gateway/txn"
	"ecardgw/metrics"
	"ecardgw/store"
)

// observer feeds the engine's events into Prometheus collectors, mapping
// the engine's response codes, channels and label strings onto the metrics
// package's bounded enums (anything unknown counts as "other").
type observer struct {
	m     *metrics.Metrics
	terms *termTracker // nil: no per-terminal view
}

func newObserver(m *metrics.Metrics, terms *termTracker) *observer {
	return &observer{m: m, terms: terms}
}

var _ txn.OutcomeObserver = (*observer)(nil)

// Outcome feeds the per-terminal view and the decline trace.
func (o *observer) Outcome(x *txn.Outcome) {
	if o.terms != nil {
		o.terms.Outcome(x)
	}
}

func (o *observer) Request(mti uint16, rc txn.RC, retransmission bool, d time.Duration) {
	class := metrics.ClassifyMTI(mti)
	o.m.Request(class, respCode(rc), d)
	if retransmission {
		o.m.Retransmission(class)
	}
}

// respCode maps a response code to its label; a code of the centre's
// that the gateway does not know is "other".
func respCode(rc txn.RC) metrics.RespCode {
	switch rc {
	case txn.RCApproved:
		return metrics.RC00
	case txn.RCUnknownTerm:
		return metrics.RC03
	case txn.RCNotAllowed:
		return metrics.RC12
	case txn.RCBadAmount:
		return metrics.RC13
	case txn.RCUnknownCard:
		return metrics.RC14
	case txn.RCNoOriginal:
		return metrics.RC25
	case txn.RCFormat:
		return metrics.RC30
	case txn.RCLost:
		return metrics.RC41
	case txn.RCInsufficient:
		return metrics.RC51
	case txn.RCOverLimit:
		return metrics.RC61
	case txn.RCFrozen:
		return metrics.RC62
	case txn.RCSignIn:
		return metrics.RC77
	case txn.RCCentreDown:
		return metrics.RC91
	case txn.RCSystem:
		return metrics.RC96
	case txn.RCPayUnresolved:
		return metrics.RC98
	case txn.RCMAC:
		return metrics.RCA0
	case txn.RCNotBound:
		return metrics.RCP1
	case txn.RCChannelDecline:
		return metrics.RCP2
	case txn.RCUnknownCode:
		return metrics.RCP3
	case txn.RCPayBusy:
		return metrics.RCP4
	case txn.RCCodeMalformed:
		return metrics.RCQ1
	case txn.RCCodeSignature:
		return metrics.RCQ2
	case txn.RCCodeExpired:
		return metrics.RCQ3
	case txn.RCReplay:
		return metrics.RCQ4
	case txn.RCCodeKey:
		return metrics.RCQ5
	case txn.RCInactive:
		return metrics.RCQ6
	}
	return metrics.RCOther
}

func (o *observer) FrameError(reason string) { o.m.DecodeError(metrics.ParseDecodeReason(reason)) }
func (o *observer) SignIn()                  { o.m.SignIn() }
func (o *observer) MACFailure()              { o.m.MACFailure() }
func (o *observer) StandIn()                 { o.m.StandInApproval() }
func (o *observer) CampusCode(reason string) { o.m.CampusCode(metrics.ParseCampusCodeResult(reason)) }

func (o *observer) Payment(ch store.Channel, outcome string) {
	o.m.Payment(channel(ch), metrics.ParsePaymentOutcome(outcome))
}

// channel maps a payment channel to its label.
func channel(c store.Channel) metrics.Channel {
	switch c {
	case store.ChannelCampus:
		return metrics.ChannelCampus
	case store.ChannelAlipay:
		return metrics.ChannelAlipay
	case store.ChannelWeChat:
		return metrics.ChannelWeChat
	case store.ChannelUnionPay:
		return metrics.ChannelUnionPay
	}
	return metrics.ChannelOther
}

var _ txn.PayFlowObserver = (*observer)(nil)

func (o *observer) PayRetry(op, result string) { o.m.PaymentRetry(op, result) }
func (o *observer) PaymentsPending(n int)      { o.m.SetPaymentsPending(n) }
func (o *observer) PayRetryQueue(n int)        { o.m.SetPaymentRetryQueue(n) }
