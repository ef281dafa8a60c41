package txn

import (
	"context"
	"encoding/binary"

	"ecardgw/store"
)

// blacklistPage is how many 7-byte entries fit in field 62 (512 bytes) after
// the version (4) and the more-follows flag (1).
const blacklistPage = (512 - 5) / 7

// blacklistDownload: 0800/390. Request 62 = the terminal's version (4).
// Answer 62 = new version (4) · more-follows (1) · entries of 7 bytes (card
// number's last 12 digits as 6 BCD bytes · action 01 add / 00 remove). The
// terminal repeats with the new version until the flag is 00.
func (e *Engine) blacklistDownload(ctx context.Context, w *work, term *Terminal) ([]byte, RC) {
	req := &w.req
	v := req.Bytes(62)
	if len(v) != 4 {
		return e.plainAnswer(w, RCFormat, nil), RCFormat
	}
	from := binary.BigEndian.Uint32(v)
	var answer []byte
	var upTo uint32
	var more bool
	err := e.db.View(func(tx *store.Tx) error {
		out := make([]byte, 5, 5+blacklistPage*7)
		upTo = from
		var err error
		more, err = tx.BlacklistSince(from, blacklistPage, func(ver uint32, card string, add bool) error {
			var c12 [12]byte
			n := copy(c12[:], card[max(0, len(card)-12):])
			for i := n; i < 12; i++ {
				c12[i] = '0'
			}
			for i := 0; i < 12; i += 2 {
				out = append(out, (c12[i]-'0')<<4|(c12[i+1]-'0'))
			}
			if add {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
			upTo = ver
			return nil
		})
		if err != nil {
			return err
		}
		binary.BigEndian.PutUint32(out, upTo)
		if more {
			out[4] = 1
		}
		r := &w.resp
		r.SetResponseFrom(req, 11, 41, 42, 60)
		r.Header = req.Header.Reply(procNone)
		e.stampTime(r)
		_ = r.SetString(39, string(RCApproved))
		_ = r.SetBytes(62, out)
		answer, err = encodeResp(w, nil)
		return err
	})
	if err != nil {
		e.log.Error("blacklist download", "terminal", term.ID, "err", err)
		return e.plainAnswer(w, RCSystem, nil), RCSystem
	}
	if !more {
		e.noteBlacklistVersion(term.ID, upTo)
	}
	return answer, RCApproved
}

// noteBlacklistVersion remembers that a terminal holds the blacklist up to
// ver, so that its answers stop asking it to download (processing
// requirement 6).
func (e *Engine) noteBlacklistVersion(term string, ver uint32) {
	en := e.sessions.entry(term)
	for {
		st := en.st.Load()
		if st == nil || st.blacklistVer >= ver {
			return
		}
		ns := *st
		ns.blacklistVer = ver
		if en.st.CompareAndSwap(st, &ns) {
			// Durable, so a restart does not ask every terminal again.
			_ = e.db.Update(context.Background(), func(tx *store.Tx) error {
				return persistSession(tx, term, &ns)
			})
			return
		}
	}
}

// BlacklistChanged tells the engine the blacklist has a new version (after
// a loss is reported or cancelled): answers to terminals with an older one
// carry processing requirement 6 from now on.
func (e *Engine) BlacklistChanged(ver uint32) {
	for {
		cur := e.blacklistVersion.Load()
		if ver <= cur || e.blacklistVersion.CompareAndSwap(cur, ver) {
			return
		}
	}
}
