package daemon

import (
	"time"

	"ecardgw/gateway/txn"
	"ecardgw/metrics"
)

// observer feeds the engine's events into Prometheus collectors, mapping
// the engine's label strings onto the metrics package's bounded enums.
type observer struct {
	m         *metrics.Metrics
	decode    map[string]metrics.DecodeReason
	campus    map[string]metrics.CampusCodeResult
	outcome   map[string]metrics.PaymentOutcome
	retransRC metrics.RespCode
}

func newObserver(m *metrics.Metrics) *observer {
	o := &observer{m: m,
		decode:  map[string]metrics.DecodeReason{},
		campus:  map[string]metrics.CampusCodeResult{},
		outcome: map[string]metrics.PaymentOutcome{},
	}
	for r := metrics.DecodeReason(0); r < metrics.DecodeOther; r++ {
		o.decode[r.String()] = r
	}
	for r := metrics.CampusCodeResult(0); r < metrics.CampusCodeOther; r++ {
		o.campus[r.String()] = r
	}
	for r := metrics.PaymentOutcome(0); r < metrics.PaymentOther; r++ {
		o.outcome[r.String()] = r
	}
	return o
}

var _ txn.Observer = (*observer)(nil)

func (o *observer) Request(mti uint16, rc string, d time.Duration) {
	o.m.Request(metrics.ClassifyMTI(mti), metrics.ClassifyRespCode([]byte(rc)), d)
}

func (o *observer) FrameError(reason string) {
	r, ok := o.decode[reason]
	if !ok {
		r = metrics.DecodeOther
	}
	o.m.DecodeError(r)
}

func (o *observer) SignIn()     { o.m.SignIn() }
func (o *observer) MACFailure() { o.m.MACFailure() }

func (o *observer) CampusCode(reason string) {
	r, ok := o.campus[reason]
	if !ok {
		r = metrics.CampusCodeOther
	}
	o.m.CampusCode(r)
}

func (o *observer) Payment(channel, outcome string) {
	r, ok := o.outcome[outcome]
	if !ok {
		r = metrics.PaymentOther
	}
	o.m.Payment(metrics.ClassifyChannel([]byte(channel)), r)
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
