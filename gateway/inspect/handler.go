package inspect

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"ecardgw/gateway/logging"
	"ecardgw/store"
)

// ResultTrailer is the HTTP trailer in which the gateway confirms a
// journal export or a backup: "ok <records or bytes>", or "error". A body
// without it was cut short, and the client says so (ErrIncomplete)
// instead of leaving a truncated reconciliation file behind.
const ResultTrailer = "Ecardgw-Result"

// LastSeqHeader tells a journal client the last sequence number the
// answer covers (the journal's length when it was read), so `journal tail
// --follow` asks next for what came after, without gaps or repeats.
const LastSeqHeader = "Ecardgw-Last-Seq"

// WriteStall bounds how long one write to the client may take. A backup
// holds a read transaction open for its whole length; a client that stops
// reading must not hold it (and a commit that grows the file) for ever.
const WriteStall = 30 * time.Second

// JournalHandler serves GET /journal?since=&until=&tail=&format= from db:
// the same bytes `ecardgw journal export|tail` writes when it reads the
// store file itself.
func JournalHandler(db *store.DB, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q, err := ParseQuery(req.URL.Query())
		if err != nil {
			http.Error(w, logging.Sanitize(err.Error()), http.StatusBadRequest)
			return
		}
		var recs []store.Record
		var last uint64
		if q.Tail > 0 {
			recs, err = Tail(db, q.Tail)
			if len(recs) > 0 {
				last = recs[len(recs)-1].Seq
			}
		} else {
			// Fix the end before the headers go out; Export stops there.
			err = db.View(func(tx *store.Tx) error { last = tx.JournalLen(); return nil })
			if q.Range.Until.Seq == 0 || q.Range.Until.Seq > last+1 {
				q.Range.Until.Seq = last + 1
			}
		}
		if err != nil {
			log.Warn("journal export failed", "err", err)
			http.Error(w, "journal unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", q.Format.ContentType())
		w.Header().Set("Trailer", ResultTrailer)
		w.Header().Set(LastSeqHeader, strconv.FormatUint(last, 10))
		out := NewWriter(stallWriter(w), q.Format)
		var n int
		if q.Tail > 0 {
			for i := range recs {
				if err = out.Write(&recs[i]); err != nil {
					break
				}
			}
			n = out.Count()
		} else {
			n, err = Export(db, q.Range, out)
		}
		if err == nil {
			err = out.Flush()
		}
		if err != nil {
			log.Warn("journal export failed", "err", err, "records", n)
			w.Header().Set(ResultTrailer, "error")
			return
		}
		w.Header().Set(ResultTrailer, "ok "+strconv.Itoa(n))
	})
}

// BackupHandler serves GET /backup: DB.Backup streamed from one read
// transaction (writers are not blocked, except a commit that must grow
// the file, which waits for the backup to end).
func BackupHandler(db *store.DB, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Trailer", ResultTrailer)
		start := time.Now()
		n, err := db.Backup(stallWriter(w))
		if err != nil {
			log.Warn("store backup failed", "err", err, "bytes", n)
			w.Header().Set(ResultTrailer, "error")
			return
		}
		log.Info("store backup served", "bytes", n, "took", time.Since(start).Round(time.Millisecond))
		w.Header().Set(ResultTrailer, "ok "+strconv.FormatInt(n, 10))
	})
}

// stallWriter extends the connection's write deadline before every write,
// so each write may take WriteStall but the whole transfer may be long.
func stallWriter(w http.ResponseWriter) io.Writer {
	return &deadlineWriter{w: w, rc: http.NewResponseController(w)}
}

type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if err := d.rc.SetWriteDeadline(time.Now().Add(WriteStall)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, fmt.Errorf("set write deadline: %w", err)
	}
	return d.w.Write(p)
}
