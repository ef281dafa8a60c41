package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ecardgw/gateway/logging"
	"ecardgw/store"
)

// Dead letters: the records a sink refused for good (`ecardgw
// deadletters list|show|requeue`, GET /deadletters and POST
// /deadletters/requeue on the admin listener).

// ErrNoDeadLetter means no dead letter has the sequence number asked for.
var ErrNoDeadLetter = errors.New("no such dead letter")

// ErrNotPrimary means a dead letter of a second sink cannot be requeued:
// the outbox feeds the first sink only.
var ErrNotPrimary = errors.New("only the dead letters of the first sink can be requeued")

// DeadLetter is a dead letter with its journal record as exported
// (card masked, amounts in fen).
type DeadLetter struct {
	Seq    uint64     `json:"seq"`
	Sink   string     `json:"sink"`
	At     time.Time  `json:"at"`
	Reason string     `json:"reason"`
	Record jsonRecord `json:"record"`
}

// DeadLetters lists the dead letters, with their records, in sequence
// order; seq != 0 returns only that record's.
func DeadLetters(db *store.DB, seq uint64) ([]DeadLetter, error) {
	var out []DeadLetter
	err := db.View(func(tx *store.Tx) error {
		out = out[:0]
		return tx.DeadLetters(func(d store.DeadLetter) error {
			if seq != 0 && d.Seq != seq {
				return nil
			}
			r, _, err := tx.JournalRecord(d.Seq)
			if err != nil {
				return err
			}
			out = append(out, DeadLetter{Seq: d.Seq, Sink: d.Sink, At: d.At, Reason: logging.Sanitize(d.Reason), Record: toJSON(&r)})
			return nil
		})
	})
	return out, err
}

// Requeue puts dead letters of the sink primary back into the outbox:
// the one of seq, or every one when seq is 0. It returns the sequence
// numbers requeued. A dead letter of another sink is refused
// (ErrNotPrimary); primary "" means no sink is configured.
func Requeue(ctx context.Context, db *store.DB, primary string, seq uint64) ([]uint64, error) {
	if primary == "" {
		return nil, fmt.Errorf("%w: no centre or stream is configured, so nothing would deliver them", ErrNotPrimary)
	}
	var done []uint64
	err := db.Update(ctx, func(tx *store.Tx) error {
		done = done[:0]
		var todo []store.DeadLetter
		if err := tx.DeadLetters(func(d store.DeadLetter) error {
			if seq == 0 || d.Seq == seq {
				todo = append(todo, d)
			}
			return nil
		}); err != nil {
			return err
		}
		if seq != 0 && len(todo) == 0 {
			return fmt.Errorf("%w: %d", ErrNoDeadLetter, seq)
		}
		for _, d := range todo {
			if d.Sink != primary {
				if seq != 0 {
					return fmt.Errorf("%w: %d was refused by %s, the first sink is %s", ErrNotPrimary, d.Seq, d.Sink, primary)
				}
				continue
			}
			ok, err := tx.RequeueDeadLetter(d.Seq, d.Sink)
			if err != nil {
				return err
			}
			if ok {
				done = append(done, d.Seq)
			}
		}
		return nil
	})
	return done, err
}

// DeadLetterHandler serves GET /deadletters (?seq= for one) and POST
// /deadletters/requeue (?seq=, or ?all=1); after a requeue it calls kick
// (the forwarder's) so delivery starts at once.
func DeadLetterHandler(db *store.DB, primary func() string, kick func(), log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		var seq uint64
		if s := q.Get("seq"); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil || n == 0 {
				http.Error(w, "seq: want a journal sequence number", http.StatusBadRequest)
				return
			}
			seq = n
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if req.Method == http.MethodGet {
			list, err := DeadLetters(db, seq)
			if err != nil {
				log.Warn("dead letters unavailable", "err", err)
				http.Error(w, "dead letters unavailable", http.StatusServiceUnavailable)
				return
			}
			_ = json.NewEncoder(w).Encode(list)
			return
		}
		if seq == 0 && q.Get("all") != "1" {
			http.Error(w, "requeue needs seq or all=1", http.StatusBadRequest)
			return
		}
		done, err := Requeue(req.Context(), db, primary(), seq)
		switch {
		case errors.Is(err, ErrNoDeadLetter):
			http.Error(w, logging.Sanitize(err.Error()), http.StatusNotFound)
			return
		case errors.Is(err, ErrNotPrimary):
			http.Error(w, logging.Sanitize(err.Error()), http.StatusConflict)
			return
		case err != nil:
			log.Warn("requeueing dead letters failed", "err", err)
			http.Error(w, "requeue failed", http.StatusServiceUnavailable)
			return
		}
		if len(done) > 0 {
			log.Info("dead letters requeued", "records", len(done), "first", done[0])
			kick()
		}
		_ = json.NewEncoder(w).Encode(done)
	})
}

// FetchDeadLetters asks a running gateway for its dead letters (seq 0:
// all).
func FetchDeadLetters(ctx context.Context, client *http.Client, addr, token string, seq uint64) ([]DeadLetter, error) {
	var list []DeadLetter
	err := adminJSON(ctx, client, http.MethodGet, "http://"+addr+"/deadletters?"+seqQuery(seq, false), token, &list)
	return list, err
}

// PostRequeue has a running gateway requeue dead letters (seq 0: all)
// and returns the sequence numbers requeued.
func PostRequeue(ctx context.Context, client *http.Client, addr, token string, seq uint64) ([]uint64, error) {
	var done []uint64
	err := adminJSON(ctx, client, http.MethodPost, "http://"+addr+"/deadletters/requeue?"+seqQuery(seq, true), token, &done)
	return done, err
}

func seqQuery(seq uint64, all bool) string {
	v := url.Values{}
	if seq != 0 {
		v.Set("seq", strconv.FormatUint(seq, 10))
	} else if all {
		v.Set("all", "1")
	}
	return v.Encode()
}

// adminJSON does one admin request and decodes its JSON answer into out.
func adminJSON(ctx context.Context, client *http.Client, method, u, token string, out any) error {
	var buf bytes.Buffer
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(&buf, io.LimitReader(resp.Body, 64<<20)); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(buf.String())
		switch resp.StatusCode {
		case http.StatusNotFound:
			if strings.Contains(msg, ErrNoDeadLetter.Error()) {
				return fmt.Errorf("%w: %s", ErrNoDeadLetter, msg)
			}
			msg = "not served (the admin listener serves it on loopback only, and needs a gateway that has it)"
		case http.StatusConflict:
			return fmt.Errorf("%w: %s", ErrNotPrimary, msg)
		case http.StatusUnauthorized:
			msg = "the gateway did not accept the admin token: the key file's admin_tokens must hold a token " +
				"the running gateway knows (after editing it, reload the gateway: systemctl reload ecardgw)"
		}
		return fmt.Errorf("%w: %s: HTTP %d %s", ErrAdmin, req.URL.Path, resp.StatusCode, msg)
	}
	return json.Unmarshal(buf.Bytes(), out)
}
