package txn

import (
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
