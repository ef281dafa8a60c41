package store

import (
	"time"
)

// Record is one journal record. The journal is append-only: Seq is
// assigned by AppendJournal, increases by one per record, and is never
// reused.
type Record struct {
	Seq          uint64
	Time         time.Time
	Key          IdemKey
	Kind         Kind // KindPurchase, KindRefund, ... (kind.go)
	ProcCode     uint32
	Account      uint64
	CardMasked   string // masked only; a full card number never goes here
	Channel      Channel
	Amount       int64
	Resp         string
	RRN          string
	Auth         string
	BalanceAfter int64
	Orig         *IdemKey // the original request of a refund or reversal
	Exception    bool     // for reconciliation (offline advice over balance)
	StandIn      bool
	Location     string
	Note         string
	// PrevSeq is the previous journal record of the same account (0: none);
	// AppendJournal sets it.
	PrevSeq uint64
}

const recordV2 = 2

const (
	recOrig = 1 << iota
	recException
	recStandIn
	recFlagsAll = recOrig | recException | recStandIn
)

func (e *enc) record(r *Record) {
	e.u8(recordV2)
	e.u64(r.Seq)
	e.time(r.Time)
	e.idem(r.Key)
	e.str(string(r.Kind))
	e.u32(r.ProcCode)
	e.u64(r.Account)
	e.str(r.CardMasked)
	e.str(string(r.Channel))
	e.i64(r.Amount)
	e.str(r.Resp)
	e.str(r.RRN)
	e.str(r.Auth)
	e.i64(r.BalanceAfter)
	var flags uint8
	if r.Orig != nil {
		flags |= recOrig
	}
	if r.Exception {
		flags |= recException
	}
	if r.StandIn {
		flags |= recStandIn
	}
	e.u8(flags)
	if r.Orig != nil {
		e.idem(*r.Orig)
	}
	e.str(r.Location)
	e.str(r.Note)
	e.u64(r.PrevSeq)
}

// appendRecord appends the stored encoding of r.
func appendRecord(dst []byte, r *Record) ([]byte, error) {
	e := enc{b: dst}
	e.record(r)
	return e.b, e.err
}

// decodeRecord decodes a stored journal record; ErrCorruptValue on bad
// bytes.
func decodeRecord(b []byte, r *Record) error {
	d := dec{b: b}
	d.version(recordV2)
	*r = Record{
		Seq:          d.u64(),
		Time:         d.time(),
		Key:          d.idem(),
		Kind:         Kind(d.str()),
		ProcCode:     d.u32(),
		Account:      d.u64(),
		CardMasked:   d.str(),
		Channel:      Channel(d.str()),
		Amount:       d.i64(),
		Resp:         d.str(),
		RRN:          d.str(),
		Auth:         d.str(),
		BalanceAfter: d.i64(),
	}
	flags := d.u8()
	if flags&^recFlagsAll != 0 {
		d.bad = true
	}
	if flags&recOrig != 0 {
		o := d.idem()
		r.Orig = &o
	}
	r.Exception = flags&recException != 0
	r.StandIn = flags&recStandIn != 0
	r.Location = d.str()
	r.Note = d.str()
	r.PrevSeq = d.u64()
	return d.done()
}
