package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Scan calls fn for every committed group from sequence number from on,
// in order, with its position and records (valid only during the call).
// It sees the groups committed before it began. A damaged group, a
// segment that does not continue the sequence or a group missing before
// the newest committed one stops it with a *CorruptError; an error from fn
// stops it with that error. Groups before the oldest segment kept (see
// DropBefore) are not there to scan: Scan then starts at the oldest.
func (l *Log) Scan(from uint64, fn func(seq uint64, pos Pos, recs [][]byte) error) error {
	if l.closed {
		return ErrClosed
	}
	l.mu.Lock()
	newest, end, next := l.seg, l.off, l.next
	l.mu.Unlock()
	if next == 1 {
		return nil // nothing committed yet
	}
	segs, err := l.segments()
	if err != nil {
		return err
	}
	start := 0
	for i, s := range segs {
		if s <= from {
			start = i
		}
	}
	var recs [][]byte
	expect := uint64(0) // the next group's seq; 0 until the first segment
	for _, s := range segs[start:] {
		if s > newest {
			break // a segment created after Scan began
		}
		name := filepath.Join(l.dir, segName(s))
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		if expect != 0 && s != expect {
			return &CorruptError{File: name, Seq: expect,
				Reason: fmt.Sprintf("segment begins at group %d", s)}
		}
		if err := checkHeader(data, s); err != nil {
			return &CorruptError{File: name, Seq: s, Reason: err.Error()}
		}
		limit := int64(len(data))
		if s == newest {
			limit = end
		}
		off, seq := int64(segHeader), s
		for off < limit {
			g, reason := parseGroup(data[:limit], off)
			if reason == "" && g.seq != seq {
				reason = fmt.Sprintf("group %d out of sequence", g.seq)
			}
			if reason != "" {
				if s != newest && allZero(data[off:]) {
					break // the end of a full segment
				}
				return &CorruptError{File: name, Offset: off, Seq: seq, Reason: reason}
			}
			if seq >= from {
				recs, _ = splitRecords(g.payload, g.records, recs[:0])
				if err := fn(seq, Pos{Segment: s, Offset: off}, recs); err != nil {
					return err
				}
			}
			off, seq = g.end, seq+1
		}
		expect = seq
	}
	if expect != next {
		return &CorruptError{File: filepath.Join(l.dir, segName(newest)), Offset: end, Seq: expect,
			Reason: fmt.Sprintf("groups up to %d committed, %d found", next-1, expect-1)}
	}
	return nil
}

// ReadAt returns the records of the group at pos (whose sequence number
// must be seq), checked as Scan checks them.
func (l *Log) ReadAt(pos Pos, seq uint64) ([][]byte, error) {
	if l.closed {
		return nil, ErrClosed
	}
	name := filepath.Join(l.dir, segName(pos.Segment))
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var h [groupHeader]byte
	if _, err := f.ReadAt(h[:], pos.Offset); err != nil {
		return nil, &CorruptError{File: name, Offset: pos.Offset, Seq: seq, Reason: err.Error()}
	}
	plen := int64(binary.BigEndian.Uint32(h[4:]))
	if plen > maxGroupPayload {
		return nil, &CorruptError{File: name, Offset: pos.Offset, Seq: seq, Reason: "length beyond the segment"}
	}
	data := make([]byte, pad8(groupHeader+plen))
	if _, err := f.ReadAt(data, pos.Offset); err != nil {
		return nil, &CorruptError{File: name, Offset: pos.Offset, Seq: seq, Reason: err.Error()}
	}
	g, reason := parseGroup(data, 0)
	if reason == "" && g.seq != seq {
		reason = fmt.Sprintf("group %d where %d was", g.seq, seq)
	}
	if reason != "" {
		return nil, &CorruptError{File: name, Offset: pos.Offset, Seq: seq, Reason: reason}
	}
	recs, _ := splitRecords(g.payload, g.records, nil)
	return recs, nil
}

// DropBefore removes the segments whose groups all come before sequence
// number seq (a checkpoint has them), never the newest. It returns how
// many it removed.
func (l *Log) DropBefore(seq uint64) (int, error) {
	if l.closed {
		return 0, ErrClosed
	}
	l.mu.Lock()
	newest := l.seg
	l.mu.Unlock()
	segs, err := l.segments()
	if err != nil {
		return 0, err
	}
	n := 0
	for i := 0; i+1 < len(segs) && segs[i+1] <= seq && segs[i] < newest; i++ {
		if err := os.Remove(filepath.Join(l.dir, segName(segs[i]))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	if n > 0 {
		return n, SyncDir(l.dir)
	}
	return 0, nil
}
