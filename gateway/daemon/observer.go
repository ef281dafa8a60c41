package daemon

import (
	"time"

	"ecardgw/gateway/txn"
	"ecardgw/metrics"
	"ecardgw/store"
)

// observer feeds the engine's events into Prometheus collectors, mapping
// the engine's label strings onto the metrics package's bounded enums
// (anything unknown counts as "other").
type observer struct{ m *metrics.Metrics }

func newObserver(m *metrics.Metrics) *observer { return &observer{m: m} }

var _ txn.Observer = (*observer)(nil)

func (o *observer) Request(mti uint16, rc string, d time.Duration) {
	o.m.Request(metrics.ClassifyMTI(mti), metrics.ParseRespCode(rc), d)
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

// closeReason maps the server's close reasons to the metrics labels.
func closeReason(r string) metrics.CloseReason {
	switch r {
	case "peer":
		return metrics.CloseEOF
	case "idle":
		return metrics.CloseIdle
	case "io_error", "handler_panic":
		return metrics.CloseError
	case "over_capacity":
		return metrics.CloseCap
	case "shutdown":
		return metrics.CloseShutdown
	case "frame_error", "handler_close", "read_overflow":
		return metrics.CloseProtocol
	case "slow_reader":
		return metrics.CloseSlowReader
	}
	return metrics.CloseOther
}
