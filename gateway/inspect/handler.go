package inspect

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
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

// DefaultTransferTimeout bounds a whole journal export or backup when the
// handler is given no limit (admin.transfer_timeout's default).
const DefaultTransferTimeout = 5 * time.Minute

// BackupRetryAfter is the Retry-After, in seconds, of a backup refused
// because another one is running.
const BackupRetryAfter = 60

// JournalHandler serves GET /journal?since=&until=&tail=&format= from db:
// the same bytes `ecardgw journal export|tail` writes when it reads the
// store file itself. An answer that takes longer than limit in all
// (DefaultTransferTimeout when 0) is cut off.
func JournalHandler(db *store.DB, log *slog.Logger, limit time.Duration) http.Handler {
	limit = transferLimit(limit)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		end := time.Now().Add(limit)
		q, err := ParseQuery(req.URL.Query())
		if err != nil {
			http.Error(w, logging.Sanitize(err.Error()), http.StatusBadRequest)
			return
		}
		var recs []store.Record
		var last uint64
		if q.Tail > 0 {
			recs, err = TailFiltered(db, q.Tail, q.Range.Filter)
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
		out := NewWriter(transferWriter(w, end), q.Format)
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
// the file, which waits for the backup to end). One backup runs at a
// time: another one meanwhile is answered 429 with Retry-After. A backup
// that takes longer than limit in all (DefaultTransferTimeout when 0) is
// cut off, which ends its read transaction.
func BackupHandler(db *store.DB, log *slog.Logger, limit time.Duration) http.Handler {
	limit = transferLimit(limit)
	var running atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !running.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", strconv.Itoa(BackupRetryAfter))
			http.Error(w, "another backup is running: retry when it has ended", http.StatusTooManyRequests)
			return
		}
		defer running.Store(false)
		start := time.Now()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Trailer", ResultTrailer)
		n, err := db.Backup(transferWriter(w, start.Add(limit)))
		if err != nil {
			log.Warn("store backup failed", "err", err, "bytes", n)
			w.Header().Set(ResultTrailer, "error")
			return
		}
		log.Info("store backup served", "bytes", n, "took", time.Since(start).Round(time.Millisecond))
		w.Header().Set(ResultTrailer, "ok "+strconv.FormatInt(n, 10))
	})
}

func transferLimit(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTransferTimeout
	}
	return d
}

// transferWriter bounds the writes of one answer: each may take
// WriteStall, and none may end after end (the transfer limit); the first
// write after end fails with errTransferLimit. The connection is closed
// after the answer, so its write deadline never carries over to another
// request on it.
func transferWriter(w http.ResponseWriter, end time.Time) io.Writer {
	w.Header().Set("Connection", "close")
	return &deadlineWriter{w: w, rc: http.NewResponseController(w), end: end}
}

// errTransferLimit means an answer ran past its transfer limit.
var errTransferLimit = errors.New("transfer time limit reached (admin.transfer_timeout)")

type deadlineWriter struct {
	w   io.Writer
	rc  *http.ResponseController
	end time.Time
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	now := time.Now()
	if !now.Before(d.end) {
		return 0, errTransferLimit
	}
	deadline := now.Add(WriteStall)
	if deadline.After(d.end) {
		deadline = d.end
	}
	if err := d.rc.SetWriteDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, fmt.Errorf("set write deadline: %w", err)
	}
	return d.w.Write(p)
}
