package txn

import (
	"net"
	"time"

	"ecardgw/store"
)

// Observer receives what the engine does, for metrics. Methods must be
// cheap and must not block: they run on the request path.
type Observer interface {
	// Request reports an answered request: its MTI, the response code
	// of the answer, whether that answer is the one stored for an
	// earlier copy of the request (a retransmission), and the time from
	// the frame to the answer.
	Request(mti uint16, rc RC, retransmission bool, d time.Duration)
	FrameError(reason string)
	SignIn()
	MACFailure()
	CampusCode(reason string)
	Payment(channel store.Channel, outcome string)
	StandIn()
}

type nopObserver struct{}

func (nopObserver) Request(uint16, RC, bool, time.Duration) {}
func (nopObserver) FrameError(string)                       {}
func (nopObserver) SignIn()                                 {}
func (nopObserver) MACFailure()                             {}
func (nopObserver) CampusCode(string)                       {}
func (nopObserver) Payment(store.Channel, string)           {}
func (nopObserver) StandIn()                                {}

var _ Observer = nopObserver{}

// Outcome is one answered request as seen from its terminal: what the
// per-terminal view (last seen, last response codes) and the decline
// trace need. Terminal and Merchant alias the request and are valid only
// during the OutcomeObserver call.
type Outcome struct {
	Terminal       []byte   // field 41 as sent; nil when the request did not decode that far
	Merchant       []byte   // field 42 as sent
	Remote         net.Addr // the connection's peer; nil when the frame came from elsewhere (Handle)
	MTI            uint16
	RC             RC
	Note           string // why a decline was given (which limit, which check); "" when none is known
	Retransmission bool
}

// OutcomeObserver is an Observer that also wants every Outcome. The
// engine checks for it on the Observer it was given. Like the other
// methods, Outcome runs on the request path and must not block.
type OutcomeObserver interface {
	Outcome(o *Outcome)
}

// report hands the request's outcome to an OutcomeObserver.
func (e *Engine) report(w *work, mti uint16, rc RC, retrans bool) {
	o, ok := e.obs.(OutcomeObserver)
	if !ok {
		return
	}
	note := w.note
	if note == "" {
		note = w.call.note
	}
	if note == "" && w.call.codeReason != "" && w.call.codeReason != "ok" && rc != RCApproved {
		note = "campus code: " + w.call.codeReason
	}
	w.out = Outcome{Terminal: w.req.TerminalID(), Merchant: w.req.MerchantID(), Remote: w.remote,
		MTI: mti, RC: rc, Note: note, Retransmission: retrans}
	o.Outcome(&w.out)
	w.out = Outcome{} // keep no reference to the request
}

// why notes the reason of a refusal given outside a call (the terminal,
// its session, the MAC, the message's shape).
func (w *work) why(note string) { w.note = note }

// declineWhy declines with a note saying which rule refused.
func (c *call) declineWhy(rc RC, note string) {
	c.decline(rc)
	c.note = note
}

// unknownTerminal is the note of a 03: which of the two checks failed.
func unknownTerminal(t *Terminal) string {
	if t == nil {
		return "terminal id not configured"
	}
	return "merchant id does not match the terminal's"
}

// batchNote is the note of a 77 for the batch of field 60.
func batchNote(open bool) string {
	if !open {
		return "batch closed by settlement: sign in to open the next"
	}
	return "field 60 batch is not the signed-in batch"
}

// remoteString is a peer address for a log line ("" when unknown).
func remoteString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
