package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// factory registers collectors under the namespace; registration errors
// are programming errors (a duplicate name), so it panics like MustRegister.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(sub, name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(sub, name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(sub, name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(sub, name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

func (f factory) histogram(sub, name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(sub, name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

func (m *Metrics) newBuildInfo(f factory, info BuildInfo) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "build_info",
		Help:      "Always 1; the labels carry the version, VCS revision and Go version of the running binary.",
		ConstLabels: prometheus.Labels{
			"version": info.Version, "revision": info.Revision, "goversion": info.GoVersion,
		},
	})
	f.reg.MustRegister(g)
	g.Set(1)
}

func (m *Metrics) newPOS(f factory) {
	m.connsOpen = f.gauge("pos", "connections_open", "POS connections open now.")
	m.connsOpened = f.counter("pos", "connections_opened_total", "POS connections accepted.")
	closed := f.counterVec("pos", "connections_closed_total", "POS connections closed, by reason.", "reason")
	for r := range numCloseReasons {
		m.connsClosed[r] = closed.WithLabelValues(r.String())
	}
	reqs := f.counterVec("pos", "requests_total", "POS requests answered, by request MTI and response code.", "mti", "code")
	retr := f.counterVec("pos", "retransmissions_total",
		"POS requests answered with the answer stored for an earlier copy of the same request, by request MTI (also counted in requests_total, under that answer's code).",
		"mti")
	dur := f.histogramVec("pos", "request_duration_seconds",
		"Time from a complete request frame to its answer being queued for the terminal, by request MTI.",
		LatencyBuckets, "mti")
	for c := range numMTIClasses {
		for rc := range numRespCodes {
			m.requests[c][rc] = reqs.WithLabelValues(c.String(), rc.String())
		}
		m.retransmits[c] = retr.WithLabelValues(c.String())
		m.requestDur[c] = dur.WithLabelValues(c.String())
	}
	dec := f.counterVec("pos", "decode_errors_total", "Frames or messages that could not be decoded, by reason.", "reason")
	for r := range numDecodeReasons {
		m.decodeErrors[r] = dec.WithLabelValues(r.String())
	}
}

func (m *Metrics) newSession(f factory) {
	m.signIns = f.counter("session", "sign_ins_total", "Terminal sign-ins that drew new working keys.")
	m.macFailures = f.counter("session", "mac_failures_total", "Requests whose MAC did not verify (answered A0).")
	m.sessionsActive = f.gauge("session", "active", "Terminals signed in with a live session.")
}

func (m *Metrics) newStore(f factory) {
	m.storeUp = f.gauge("store", "up", "1 when the store is open and writable, 0 otherwise.")
	m.commitDur = f.histogram("store", "commit_duration_seconds",
		"Time of one group commit, from the first request joining to the fsync returning.", LatencyBuckets)
	m.commitGroup = f.histogram("store", "commit_group_size",
		"Requests committed together by one fsync.", GroupSizeBuckets)
	m.outboxRecords = f.gauge("outbox", "records", "Journal records not yet delivered by the forwarder.")
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "outbox", Name: "oldest_age_seconds",
		Help: "Age of the oldest undelivered journal record at scrape time; 0 when the outbox is empty.",
	}, m.outboxAge)
	f.reg.MustRegister(age)
	idem := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "store", Name: "idempotency_log_values",
		Help: "Idempotency values in the store's logs, not yet merged into their keyed bucket; under 32768 while the merges keep up with the load.",
	}, m.idemLog)
	f.reg.MustRegister(idem)
}

func (m *Metrics) newForwarder(f factory) {
	del := f.counterVec("forwarder", "deliveries_total", "Journal records delivered and acknowledged, by sink.", "sink")
	ret := f.counterVec("forwarder", "retries_total", "Delivery attempts that failed and will be retried, by sink.", "sink")
	dead := f.counterVec("forwarder", "dead_letters_total", "Records the receiver rejected for good, kept aside with the reason, by sink.", "sink")
	for s := range numSinks {
		m.deliveries[s] = del.WithLabelValues(s.String())
		m.retries[s] = ret.WithLabelValues(s.String())
		m.deadLetters[s] = dead.WithLabelValues(s.String())
	}
}

func (m *Metrics) newCentre(f factory) {
	st := f.gaugeVec("centre", "state", "1 for the gateway's current view of the card centre (standalone, reachable, unreachable), 0 for the others.", "state")
	for s := range numCentreStates {
		m.centreState[s] = st.WithLabelValues(s.String())
	}
	m.centreState[CentreStandalone].Set(1)
	m.blacklistVersion = f.gauge("blacklist", "version", "Version of the card blacklist the gateway serves to terminals.")
	m.standInApprovals = f.counter("standin", "approvals_total", "Purchases approved in stand-in while the centre did not answer.")
	m.standInExposure = f.gauge("standin", "exposure_yuan", "Stand-in approvals not yet confirmed by the centre, summed over accounts, in yuan.")
}

func (m *Metrics) newPayments(f factory) {
	cc := f.counterVec("campuscode", "verifications_total", "Campus codes verified, by result.", "result")
	for r := range numCampusCodeResults {
		m.campusCodes[r] = cc.WithLabelValues(r.String())
	}
	pay := f.counterVec("payment", "results_total", "Payments by channel and outcome.", "channel", "outcome")
	for c := range numChannels {
		for o := range numPaymentOutcomes {
			m.payments[c][o] = pay.WithLabelValues(c.String(), o.String())
		}
	}
	rd := f.gaugeVec("cardreader", "readers", "PC/SC card readers, by state.", "state")
	for s := range numReaderStates {
		m.readers[s] = rd.WithLabelValues(s.String())
	}
}
