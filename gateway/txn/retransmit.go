package txn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"

	"ecardgw/codec/iso8583"
	"ecardgw/store"
)

// A request whose idempotency key (terminal, batch, STAN, MTI) was
// answered before is a retransmission only if its content is the same:
// the idempotency record keeps the request's fingerprint with its answer.
//
//   - Same key, same fingerprint: the original answer, unchanged but for
//     its MAC, which is computed again under the terminal's current MAK (a
//     terminal that signed in since would refuse the old one and reverse
//     the original).
//   - Same key, other content (a POS whose STAN counter restarted, a batch
//     number reused): 94, duplicate transmission, journaled with a note;
//     nothing is done and the original's record is left as it was.

// fingerprintSkip lists the fields a retransmission may change: the
// terminal's clock (7, 12, 13), a reversal's reason (39: a POS that first
// sent "06" may repeat the reversal as "98", it undoes the same original)
// and the MAC (64).
var fingerprintSkip = [65]bool{7: true, 12: true, 13: true, 39: true, 64: true}

// fingerprint digests what makes a request the request it is: its MTI and
// every field but the clock fields and the MAC, each with its number and
// length (so that no two different messages feed the same bytes).
func fingerprint(w *work) store.Fingerprint {
	m := &w.req
	b := binary.BigEndian.AppendUint16(w.tmp[:0], uint16(m.MTI))
	for f := 2; f <= 63; f++ {
		if fingerprintSkip[f] || !m.Has(f) {
			continue
		}
		v := m.Raw(f)
		b = append(b, byte(f))
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	w.tmp = b
	sum := sha256.Sum256(b)
	var fp store.Fingerprint
	copy(fp[:], sum[:])
	return fp
}

// sameRequest tells whether a stored answer's fingerprint is this
// request's. A zero fingerprint (a record written before fingerprints
// were kept) matches any request, as it did then.
func (c *call) sameRequest(fp store.Fingerprint) bool {
	return fp == (store.Fingerprint{}) || fp == c.fp
}

// storedAnswer returns what to send when the request's key was answered
// before (ok) — the original answer re-MACed, or 94 for other content —
// and sets c.retrans or c.rc accordingly. It is the check of the steps
// before the store transaction, so that nothing is paid, claimed or
// asked of the centre for a request already answered.
func (e *Engine) storedAnswer(c *call) ([]byte, bool) {
	var (
		ans []byte
		fp  store.Fingerprint
	)
	_ = e.db.View(func(tx *store.Tx) error {
		a, f, ok, err := tx.IdemAnswer(c.key)
		if ok {
			ans, fp = a, f
		}
		return err
	})
	if ans == nil {
		return nil, false
	}
	if c.sameRequest(fp) {
		c.retrans = true
		return e.remac(c, ans), true
	}
	if err := e.db.Update(context.Background(), func(tx *store.Tx) error {
		c.reset(tx)
		return c.duplicate()
	}); err != nil {
		a, _ := e.notCommitted(c, err)
		return a, true
	}
	return c.answer, true
}

// duplicate answers, in the store transaction, a request whose key was
// used before for other content: 94, journaled, nothing else written.
func (c *call) duplicate() error {
	c.declineWhy(RCDuplicate, "key answered before for other content")
	w := c.w
	c.answer = c.e.plainAnswer(w, RCDuplicate, c.st.macKey)
	if c.answer == nil {
		return errNoMACKey
	}
	c.rec.Kind = kindOf(c.mti, c.proc)
	c.rec.Resp = string(RCDuplicate)
	if v, err := w.req.Amount(); err == nil {
		c.rec.Amount = v
	}
	c.rec.Note = "duplicate transmission: this key was answered before for a request with other content"
	// The record needs a key of its own (receivers drop duplicate keys, and
	// the original's record has this request's key): the terminal, the
	// record's journal sequence number, MTI 8xxx; the key it reused is its
	// original.
	orig := c.key
	seq := c.tx.JournalLen() + 1
	c.rec.Key = store.IdemKey{Terminal: c.key.Terminal, Batch: uint32(seq >> 32), STAN: uint32(seq), MTI: 8000 + c.key.MTI%1000}
	c.rec.Orig = &orig
	_, err := c.tx.AppendJournal(&c.rec)
	return err
}

// remac returns a stored answer with its MAC computed under the session's
// current MAK; its content is the original's byte for byte.
func (e *Engine) remac(c *call, ans []byte) []byte {
	key := c.st.macKey
	m := &c.w.resp
	defer m.Reset() // keep no reference to ans
	if key == nil || iso8583.DecodeFrame(m, ans) != nil || !m.Has(64) {
		return ans
	}
	mab := m.MAB()
	if len(mab) == 0 || !bytes.HasSuffix(ans, m.Raw(64)) {
		return ans
	}
	c.w.mac.CopyFrom(key)
	sum := c.w.mac.Sum(mab)
	copy(ans[len(ans)-len(sum):], sum[:])
	return ans
}
