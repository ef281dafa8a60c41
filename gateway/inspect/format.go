package inspect

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"ecardgw/gateway/logging"
	"ecardgw/store"
)

// Format is how journal records are written.
type Format int

const (
	// FormatCSV is RFC 4180 CSV with the header CSVHeader.
	FormatCSV Format = iota
	// FormatJSON is JSON Lines: one object per record with the CSV
	// columns as keys, numbers as JSON numbers.
	FormatJSON
	// FormatText is one aligned line per record for people (journal tail).
	FormatText
)

// CSVColumns are the export columns, in order. They are part of the
// reconciliation interface: add columns only at the end, never rename.
var CSVColumns = []string{"seq", "time_utc", "terminal", "batch", "stan", "mti", "kind", "proc",
	"account", "card_masked", "channel", "amount_fen", "resp", "rrn", "auth", "balance_after_fen",
	"orig", "exception", "standin", "location", "note"}

// ParseFormat parses "csv", "json" or "text".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "csv":
		return FormatCSV, nil
	case "json":
		return FormatJSON, nil
	case "text":
		return FormatText, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrBadFormat, s)
}

func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatText:
		return "text"
	}
	return "csv"
}

// ContentType is the HTTP media type of the format.
func (f Format) ContentType() string {
	switch f {
	case FormatJSON:
		return "application/x-ndjson"
	case FormatText:
		return "text/plain; charset=utf-8"
	}
	return "text/csv; charset=utf-8"
}

// Writer writes journal records in one format. Call Flush at the end;
// a CSV writer writes its header before the first record (or at Flush
// when there was none, so an empty export still names its columns).
type Writer struct {
	f      Format
	bw     *bufio.Writer
	cw     *csv.Writer
	header bool
	row    []string
	n      int
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer, f Format) *Writer {
	bw := bufio.NewWriterSize(w, 32<<10)
	out := &Writer{f: f, bw: bw}
	if f == FormatCSV {
		out.cw = csv.NewWriter(bw)
		out.row = make([]string, len(CSVColumns))
	}
	return out
}

// Count is the number of records written so far.
func (w *Writer) Count() int { return w.n }

// Write writes one record.
func (w *Writer) Write(r *store.Record) error {
	var err error
	switch w.f {
	case FormatCSV:
		if err = w.writeHeader(); err == nil {
			err = w.cw.Write(w.fill(r))
		}
	case FormatJSON:
		var b []byte
		if b, err = json.Marshal(toJSON(r)); err == nil {
			b = append(b, '\n')
			_, err = w.bw.Write(b)
		}
	default:
		_, err = fmt.Fprintf(w.bw, "%8d  %s  %-8s %-10s %11s  %-2s  %-19s %s\n", r.Seq, r.Time.UTC().Format(time.RFC3339),
			r.Key.Terminal, r.Kind, strconv.FormatInt(r.Amount, 10), r.Resp, cardMasked(r), note(r))
	}
	if err == nil {
		w.n++
	}
	return err
}

func (w *Writer) writeHeader() error {
	if w.header {
		return nil
	}
	w.header = true
	return w.cw.Write(CSVColumns)
}

// Flush writes what is buffered (and the CSV header of an empty export).
func (w *Writer) Flush() error {
	if w.f == FormatCSV {
		if err := w.writeHeader(); err != nil {
			return err
		}
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

func (w *Writer) fill(r *store.Record) []string {
	row := w.row
	row[0] = strconv.FormatUint(r.Seq, 10)
	row[1] = timeUTC(r.Time)
	row[2] = r.Key.Terminal
	row[3] = strconv.FormatUint(uint64(r.Key.Batch), 10)
	row[4] = strconv.FormatUint(uint64(r.Key.STAN), 10)
	row[5] = mti(r.Key.MTI)
	row[6] = string(r.Kind)
	row[7] = proc(r.ProcCode)
	row[8] = account(r.Account)
	row[9] = cardMasked(r)
	row[10] = string(r.Channel)
	row[11] = strconv.FormatInt(r.Amount, 10)
	row[12] = r.Resp
	row[13] = r.RRN
	row[14] = r.Auth
	row[15] = strconv.FormatInt(r.BalanceAfter, 10)
	row[16] = orig(r.Orig)
	row[17] = strconv.FormatBool(r.Exception)
	row[18] = strconv.FormatBool(r.StandIn)
	row[19] = r.Location
	row[20] = note(r)
	return row
}

// jsonRecord is a record as a JSON Lines object: the CSV columns as keys.
type jsonRecord struct {
	Seq          uint64  `json:"seq"`
	Time         string  `json:"time_utc"`
	Terminal     string  `json:"terminal"`
	Batch        uint32  `json:"batch"`
	STAN         uint32  `json:"stan"`
	MTI          string  `json:"mti"`
	Kind         string  `json:"kind"`
	Proc         string  `json:"proc"`
	Account      *uint64 `json:"account"`
	CardMasked   string  `json:"card_masked"`
	Channel      string  `json:"channel"`
	Amount       int64   `json:"amount_fen"`
	Resp         string  `json:"resp"`
	RRN          string  `json:"rrn"`
	Auth         string  `json:"auth"`
	BalanceAfter int64   `json:"balance_after_fen"`
	Orig         *string `json:"orig"`
	Exception    bool    `json:"exception"`
	StandIn      bool    `json:"standin"`
	Location     string  `json:"location"`
	Note         string  `json:"note"`
}

func toJSON(r *store.Record) jsonRecord {
	j := jsonRecord{Seq: r.Seq, Time: timeUTC(r.Time), Terminal: r.Key.Terminal, Batch: r.Key.Batch, STAN: r.Key.STAN,
		MTI: mti(r.Key.MTI), Kind: string(r.Kind), Proc: proc(r.ProcCode), CardMasked: cardMasked(r), Channel: string(r.Channel),
		Amount: r.Amount, Resp: r.Resp, RRN: r.RRN, Auth: r.Auth, BalanceAfter: r.BalanceAfter,
		Exception: r.Exception, StandIn: r.StandIn, Location: r.Location, Note: note(r)}
	if r.Account != 0 {
		a := r.Account
		j.Account = &a
	}
	if r.Orig != nil {
		o := orig(r.Orig)
		j.Orig = &o
	}
	return j
}

func timeUTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func mti(v uint16) string { return fmt.Sprintf("%04d", v) }

func proc(v uint32) string { return fmt.Sprintf("%06d", v) }

// account is empty for records that belong to no account (sign-ins,
// settlements): 0 is not an account number.
func account(v uint64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatUint(v, 10)
}

// orig names the original request of a refund or reversal as
// terminal/batch/stan/mti, the idempotency key it was journaled under.
func orig(k *store.IdemKey) string {
	if k == nil {
		return ""
	}
	return fmt.Sprintf("%s/%d/%d/%s", k.Terminal, k.Batch, k.STAN, mti(k.MTI))
}

// cardMasked passes the stored (already masked) card number through the
// log sanitizer too: should a writer ever store a full number, the export
// still shows it masked.
func cardMasked(r *store.Record) string { return logging.Sanitize(r.CardMasked) }

// note is free text written by the engine; sanitized for the same reason.
func note(r *store.Record) string { return logging.Sanitize(r.Note) }
