package daemon

import (
	"time"

	"ecardgw/gateway/txn"
	"ecardgw/metrics"
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

func (o *observer) Payment(channel, outcome string) {
	o.m.Payment(metrics.ParseChannel(channel), metrics.ParsePaymentOutcome(outcome))
}
