package metrics

import "github.com/prometheus/client_golang/prometheus"

// Pending payments, the channel retry queue and the centre's circuit
// breaker.

// BreakerState is the centre circuit breaker's state.
type BreakerState uint8

// Breaker states.
const (
	BreakerClosed   BreakerState = iota // the centre is asked
	BreakerOpen                         // the centre failed: stand in at once
	BreakerHalfOpen                     // one probe request asks the centre
	numBreakerStates
)

var breakerStateNames = [numBreakerStates]string{"closed", "open", "half_open"}

// String is the label value.
func (s BreakerState) String() string {
	if s >= numBreakerStates {
		return "open"
	}
	return breakerStateNames[s]
}

// Retry queue labels: the channel call and the attempt's result.
var (
	payRetryOps     = [...]string{"cancel", "refund"}
	payRetryResults = [...]string{"done", "retry", "refused"}
)

type payFlow struct {
	pending       prometheus.Gauge
	retryQueue    prometheus.Gauge
	retries       *prometheus.CounterVec
	breakerState  [numBreakerStates]prometheus.Gauge
	breakerChange [numBreakerStates]prometheus.Counter
}

func (m *Metrics) newPayFlow(f factory) {
	p := &m.payFlow
	p.pending = f.gauge("payment", "pending", "Code payments waiting for their channel (bounded by payments.max_pending).")
	p.retryQueue = f.gauge("payment", "retry_queue", "Channel cancels and refunds the gateway owes and retries until the channel confirms.")
	p.retries = f.counterVec("payment", "retries_total", "Attempts of queued channel calls, by operation (cancel, refund) and result (done, retry, refused).", "op", "result")
	for _, o := range payRetryOps {
		for _, r := range payRetryResults {
			p.retries.WithLabelValues(o, r)
		}
	}
	st := f.gaugeVec("centre", "breaker_state", "1 for the centre circuit breaker's current state (closed, open, half_open), 0 for the others.", "state")
	ch := f.counterVec("centre", "breaker_transitions_total", "Changes of the centre circuit breaker, by the state entered.", "state")
	for s := range numBreakerStates {
		p.breakerState[s] = st.WithLabelValues(s.String())
		p.breakerChange[s] = ch.WithLabelValues(s.String())
	}
	p.breakerState[BreakerClosed].Set(1)
}

// SetPaymentsPending reports the code payments waiting for their channel.
func (m *Metrics) SetPaymentsPending(n int) {
	if m == nil {
		return
	}
	m.payFlow.pending.Set(float64(n))
}

// SetPaymentRetryQueue reports the channel calls owed.
func (m *Metrics) SetPaymentRetryQueue(n int) {
	if m == nil {
		return
	}
	m.payFlow.retryQueue.Set(float64(n))
}

// PaymentRetry counts one attempt of a queued channel call; unknown
// labels are counted as a refund retry.
func (m *Metrics) PaymentRetry(op, result string) {
	if m == nil {
		return
	}
	if op != "cancel" {
		op = "refund"
	}
	switch result {
	case "done", "refused":
	default:
		result = "retry"
	}
	m.payFlow.retries.WithLabelValues(op, result).Inc()
}

// BreakerChanged reports the centre circuit breaker entering state s.
func (m *Metrics) BreakerChanged(s BreakerState) {
	if m == nil {
		return
	}
	if s >= numBreakerStates {
		s = BreakerOpen
	}
	for i := range m.payFlow.breakerState {
		m.payFlow.breakerState[i].Set(boolFloat(BreakerState(i) == s))
	}
	m.payFlow.breakerChange[s].Inc()
}
