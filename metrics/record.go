package metrics

import (
	"time"
)

// ConnOpened counts an accepted POS connection.
func (m *Metrics) ConnOpened() {
	if m == nil {
		return
	}
	m.connsOpened.Inc()
	m.connsOpen.Inc()
}

// ConnClosed counts a closed POS connection; call it once for every
// ConnOpened (a connection refused at the cap is opened, then closed with
// CloseCap), so connections_open stays exact.
func (m *Metrics) ConnClosed(r CloseReason) {
	if m == nil {
		return
	}
	m.connsClosed[r.clamp()].Inc()
	m.connsOpen.Dec()
}

// Request counts an answered POS request and observes its duration.
func (m *Metrics) Request(mti MTIClass, code RespCode, d time.Duration) {
	if m == nil {
		return
	}
	c := mti.clamp()
	m.requests[c][code.clamp()].Inc()
	m.requestDur[c].Observe(d.Seconds())
}

// Retransmission counts a request answered with the answer stored for an
// earlier copy of it (the terminal did not get that answer and sent the
// request again); Request counts it too, under the stored answer's code.
func (m *Metrics) Retransmission(mti MTIClass) {
	if m == nil {
		return
	}
	m.retransmits[mti.clamp()].Inc()
}

// DecodeError counts a frame or message that could not be decoded.
func (m *Metrics) DecodeError(r DecodeReason) {
	if m == nil {
		return
	}
	m.decodeErrors[r.clamp()].Inc()
}

// SignIn counts a sign-in that drew new working keys.
func (m *Metrics) SignIn() {
	if m == nil {
		return
	}
	m.signIns.Inc()
}

// MACFailure counts a request answered A0.
func (m *Metrics) MACFailure() {
	if m == nil {
		return
	}
	m.macFailures.Inc()
}

// SetSessionsActive reports the number of live terminal sessions.
func (m *Metrics) SetSessionsActive(n int) {
	if m == nil {
		return
	}
	m.sessionsActive.Set(float64(n))
}

// SetStoreUp reports whether the store is open and writable.
func (m *Metrics) SetStoreUp(up bool) {
	if m == nil {
		return
	}
	m.storeUp.Set(boolFloat(up))
}

// JournalCommit observes one group commit: its duration and how many
// requests shared the fsync.
func (m *Metrics) JournalCommit(d time.Duration, groupSize int) {
	if m == nil {
		return
	}
	m.commitDur.Observe(d.Seconds())
	m.commitGroup.Observe(float64(groupSize))
}

// SetOutbox reports the undelivered records and the time the oldest was
// journaled (zero time when the outbox is empty). The age is computed at
// scrape time, so it keeps growing while the forwarder is stuck even if
// nobody calls SetOutbox again.
func (m *Metrics) SetOutbox(records int, oldest time.Time) {
	if m == nil {
		return
	}
	m.outboxRecords.Set(float64(records))
	if records == 0 || oldest.IsZero() {
		m.outboxOldest.Store(0)
		return
	}
	m.outboxOldest.Store(oldest.UnixNano())
}

func (m *Metrics) outboxAge() float64 {
	ns := m.outboxOldest.Load()
	if ns == 0 {
		return 0
	}
	age := m.now().Sub(time.Unix(0, ns)).Seconds()
	if age < 0 {
		return 0 // clock stepped back: never report a negative age
	}
	return age
}

// WatchIdemLog makes the idempotency-log gauge read f at scrape time (the
// store's DB.IdemLogged).
func (m *Metrics) WatchIdemLog(f func() int) {
	if m == nil {
		return
	}
	m.idemLogged.Store(&f)
}

func (m *Metrics) idemLog() float64 {
	f := m.idemLogged.Load()
	if f == nil {
		return 0
	}
	return float64((*f)())
}

// ForwarderDelivered counts n records acknowledged by a sink.
func (m *Metrics) ForwarderDelivered(s Sink, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.deliveries[s.clamp()].Add(float64(n))
}

// ForwarderRetry counts a failed delivery attempt that will be retried.
func (m *Metrics) ForwarderRetry(s Sink) {
	if m == nil {
		return
	}
	m.retries[s.clamp()].Inc()
}

// ForwarderDeadLetter counts a record the receiver rejected for good.
func (m *Metrics) ForwarderDeadLetter(s Sink) {
	if m == nil {
		return
	}
	m.deadLetters[s.clamp()].Inc()
}

// SetCentreState reports the gateway's view of the card centre.
func (m *Metrics) SetCentreState(s CentreState) {
	if m == nil {
		return
	}
	if s >= numCentreStates {
		s = CentreUnreachable
	}
	for i := range m.centreState {
		m.centreState[i].Set(boolFloat(CentreState(i) == s))
	}
}

// StandInApproval counts a purchase approved in stand-in.
func (m *Metrics) StandInApproval() {
	if m == nil {
		return
	}
	m.standInApprovals.Inc()
}

// SetStandInExposure reports the unconfirmed stand-in total in fen. The
// metric is in yuan because Prometheus wants a base unit and fen is a
// sub-unit (like milliseconds); money stays int64 fen everywhere else.
func (m *Metrics) SetStandInExposure(fen int64) {
	if m == nil {
		return
	}
	m.standInExposure.Set(float64(fen) / 100)
}

// CampusCode counts a campus code verification result.
func (m *Metrics) CampusCode(r CampusCodeResult) {
	if m == nil {
		return
	}
	m.campusCodes[r.clamp()].Inc()
}

// Payment counts a payment's outcome on its channel.
func (m *Metrics) Payment(c Channel, o PaymentOutcome) {
	if m == nil {
		return
	}
	m.payments[c.clamp()][o.clamp()].Inc()
}

// SetReaders reports how many card readers are in a state. The reader
// manager sets every state it knows after each change.
func (m *Metrics) SetReaders(s ReaderState, n int) {
	if m == nil {
		return
	}
	m.readers[s.clamp()].Set(float64(n))
}

// SetBlacklistVersion reports the blacklist version served to terminals.
func (m *Metrics) SetBlacklistVersion(v uint32) {
	if m == nil {
		return
	}
	m.blacklistVersion.Set(float64(v))
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
