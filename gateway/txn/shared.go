package txn

import (
	"context"

	"ecardgw/gateway/campuscode"
)

// SharedReplay is the campus-code replay record shared between the
// gateways of several campuses (a JetStream key-value bucket): Claim is
// true for the first claimant of a code anywhere.
type SharedReplay interface {
	Claim(ctx context.Context, account uint64, genAt uint32, counter uint16) (bool, error)
}

// claimShared claims a verified campus code in the shared record before
// anything is decided, so that a code used at one campus is refused at the
// other. A retransmission is answered from the idempotency record first
// (it claimed the code the first time). When the shared record cannot be
// reached the local record still refuses replays at this gateway.
func (e *Engine) claimShared(ctx context.Context, c *call) ([]byte, bool) {
	if e.shared == nil || c.code == nil || c.code.err != nil {
		return nil, false
	}
	if ans, ok := e.storedAnswer(c.key); ok {
		return ans, true
	}
	r := c.code.res
	ok, err := e.shared.Claim(ctx, r.Account, r.GeneratedAt, r.Counter)
	switch {
	case err != nil:
		e.log.Warn("shared campus-code replay record unreachable: refusing replays at this gateway only", "err", err)
	case !ok:
		c.code.err = campuscode.ErrReplay
	}
	return nil, false
}
