package txn

import (
	"context"

	"ecardgw/codec/iso8583"
)

// signOut answers a sign-out (0820, 60.3 002) and ends the terminal's
// session when the sign-out is the terminal's own. Terminal and merchant
// ids are no secret (they are printed on receipts), so they do not show
// that: the MAC under the session's MAK does, as for a financial request
// (docs/protocol.md section 4.3).
//
//   - MACed (field 64): the message must be exactly 11, 41, 42, 60 and 64,
//     60 being 00 · batch · 002 (else 30). With no session (or one whose
//     keys expired) there is nothing to end: 00, unMACed, nothing written.
//     Otherwise 60.2 must be the session's batch and the MAC must verify:
//     then the session ends (one store write) and the answer 00 is MACed
//     under the session's MAK. If not: A0.
//   - Not MACed: A0, unless the terminal is configured with LegacySignOut;
//     then the sign-in storm limit applies (its own bucket; beyond it 96)
//     and the session, if any, ends: 00, unMACed.
//
// A refused sign-out changes nothing and writes nothing, and its A0
// carries no MAC: the gateway MACs nothing chosen by someone who has not
// shown the key (an answer MACed under the session's key over fields the
// sender picks would let it collect MACs). Nor does it count towards the
// MAC failures that drop a session (financial.go): otherwise five forged
// sign-outs would sign the terminal out after all. It counts in the MAC
// failure metric.
//
// The fixed shape is for the single-DES MAK's UnionPay ECB MAC, which
// depends only on the XOR of the message's 8-byte blocks: with nothing
// but the STAN left to choose, no sign-out shares that XOR with a frame
// of the session someone may have seen, so none borrows its MAC.
func (e *Engine) signOut(ctx context.Context, w *work, term *Terminal, f60 iso8583.F60) ([]byte, RC) {
	req := &w.req
	en, st, err := e.session(term.ID)
	if err != nil {
		e.log.Error("session lookup", "terminal", term.ID, "err", err)
		return e.plainAnswer(w, RCSystem, nil), RCSystem
	}
	if st != nil && e.expired(st) {
		st = nil
	}
	if !req.Has(64) {
		if !term.LegacySignOut {
			return e.refuseSignOut(w, term, "no MAC")
		}
		if !en.allowSignOut(e.now()) {
			e.log.Debug("sign-out refused: more than the storm limit", "terminal", term.ID)
			return e.plainAnswer(w, RCSystem, nil), RCSystem
		}
		if st == nil {
			return e.plainAnswer(w, RCApproved, nil), RCApproved
		}
		if err := e.endSession(ctx, en, term.ID, st); err != nil {
			e.log.Error("sign-out not stored", "terminal", term.ID, "err", err)
			return e.plainAnswer(w, RCSystem, nil), RCSystem
		}
		e.log.Info("terminal signed out without a MAC (legacy sign-out)", "terminal", term.ID)
		return e.plainAnswer(w, RCApproved, nil), RCApproved
	}
	if !signOutShape(req, f60) {
		return e.plainAnswer(w, RCFormat, nil), RCFormat
	}
	if st == nil {
		return e.plainAnswer(w, RCApproved, nil), RCApproved
	}
	if f60.Batch != st.batch {
		return e.refuseSignOut(w, term, "not the session's batch")
	}
	if !e.macOK(w, st) {
		return e.refuseSignOut(w, term, "bad MAC")
	}
	if err := e.endSession(ctx, en, term.ID, st); err != nil {
		e.log.Error("sign-out not stored", "terminal", term.ID, "err", err)
		return e.plainAnswer(w, RCSystem, nil), RCSystem
	}
	e.log.Info("terminal signed out", "terminal", term.ID)
	return e.plainAnswer(w, RCApproved, st.macKey), RCApproved
}

// refuseSignOut answers a sign-out that does not show the session's key:
// A0, unMACed. Logged at debug level only: a storm would otherwise flood
// the log at the storm's own rate (the metric counts them).
func (e *Engine) refuseSignOut(w *work, term *Terminal, why string) ([]byte, RC) {
	e.obs.MACFailure()
	e.log.Debug("sign-out refused", "terminal", term.ID, "reason", why)
	w.why("sign-out refused: " + why)
	return e.plainAnswer(w, RCMAC, nil), RCMAC
}

// signOutShape reports whether a MACed sign-out is exactly fields 11, 41,
// 42, 60 and 64, with 60 = 00 · batch · 002.
func signOutShape(req *iso8583.Message, f60 iso8583.F60) bool {
	if f60.Len != 11 || f60.MsgType != 0 {
		return false
	}
	for f := 2; f <= 64; f++ {
		want := f == 11 || f == 41 || f == 42 || f == 60 || f == 64
		if req.Has(f) != want {
			return false
		}
	}
	return true
}
