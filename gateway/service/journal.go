package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ecardgw/store"
)

// Terminal is the terminal id of the journal records the service API
// writes: it tells the forwarder's receivers and reconciliation where a
// record came from. With a gateway id (gateway.id) the records carry
// KeyTerminal(id), "API-<id>", so that the records of gateways sharing a
// centre or a JetStream stream never collide by key.
const Terminal = "API"

// KeyTerminal is the terminal of the service API's record keys on the
// gateway named id ("" for Terminal itself). No POS terminal id has a
// '-' (field 41 is letters and digits), so no key collides with a
// terminal's either.
func KeyTerminal(id string) string {
	if id == "" {
		return Terminal
	}
	return Terminal + "-" + id
}

// location is the Location of the API's journal records.
const location = "service API"

// journal appends rec with a fresh idempotency key. Receivers of forwarded
// records drop duplicates by key, so each API record needs its own: the
// journal sequence number the record is about to get is unique for good
// on this gateway, and the key's terminal names the gateway.
func (s *Server) journal(tx *store.Tx, rec *store.Record, now time.Time) (uint64, error) {
	next := tx.JournalLen() + 1
	rec.Key = store.IdemKey{Terminal: s.keyTerm, Batch: uint32(next >> 32), STAN: uint32(next)}
	rec.Time = now
	rec.Location = location
	return tx.AppendJournal(rec)
}

// Idempotency kinds in the store's service bucket.
const (
	kindTopUp = "topup"
	kindFee   = "fee"
)

// outcome is what is kept under an idempotency id: a digest of the
// request (to tell a retry from a different request reusing the id) and
// the answer given.
type outcome struct {
	V      int             `json:"v"`
	Digest string          `json:"digest"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
	// At is when the answer was given (UTC; absent in outcomes written
	// before it was kept, which PruneOutcomes leaves alone).
	At time.Time `json:"at,omitzero"`
}

const outcomeV1 = 1

// digest fingerprints the fields that make a request what it is. The
// parts are length-prefixed so that no two different requests collide.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// remember stores the answer (success or a business refusal) under
// (kind, id) and returns it as the reply.
func remember(tx *store.Tx, kind, id, dig string, status int, v any, at time.Time) (*reply, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	val, err := json.Marshal(outcome{V: outcomeV1, Digest: dig, Status: status, Body: body, At: at.UTC()})
	if err != nil {
		return nil, err
	}
	if err := tx.PutServiceResult(kind, id, val); err != nil {
		return nil, err
	}
	return &reply{status: status, body: body}, nil
}

// recall finds an earlier answer under (kind, id): the same answer again
// for the same request, 409 conflict for a different one.
func recall(tx *store.Tx, kind, id, dig string) (*reply, error) {
	val, ok, err := tx.ServiceResult(kind, id)
	if err != nil || !ok {
		return nil, err
	}
	var o outcome
	if err := json.Unmarshal(val, &o); err != nil || o.V != outcomeV1 || o.Status < 200 || o.Status > 599 {
		return nil, fmt.Errorf("%w: service result %s", store.ErrCorruptValue, kind)
	}
	if o.Digest != dig {
		return nil, conflict("this id was already used for a different request")
	}
	return &reply{status: o.Status, body: o.Body, replayed: true}, nil
}

// settle separates a business answer from a store failure inside an
// Update function: an *apiError is kept in *fail and the function returns
// nil (its decision stands, the group commits); anything else fails the
// transaction.
func settle(err error, fail **apiError) error {
	var ae *apiError
	if errors.As(err, &ae) {
		*fail = ae
		return nil
	}
	return err
}

// refuse journals a business refusal and remembers it under the id, so a
// retry gets the same answer even if the account has changed since.
func (s *Server) refuse(tx *store.Tx, kind, id, dig string, rec *store.Record, now time.Time, ae *apiError) (*reply, error) {
	if _, err := s.journal(tx, rec, now); err != nil {
		return nil, err
	}
	return remember(tx, kind, id, dig, ae.Status, ae, now)
}

// OutcomeRetentionMin is the least time an outcome is kept whatever
// retention.idempotency says: a top-up's id is the channel's trade number,
// and a channel retries its payment notification for about a day
// (WeChat Pay ~24 h, Alipay ~25 h); a notification that found its outcome
// gone would credit the top-up again.
const OutcomeRetentionMin = 7 * 24 * time.Hour

// PruneOutcomes deletes the remembered answers of top-ups and fees given
// before before, and returns how many it deleted. A retry of such a call
// is then a new call. Outcomes with no time (written before it was kept)
// stay. The answers are found in a read transaction and deleted in
// commits of pruneChunk, each checking the answer again, so that the
// committer is never held for a walk of them all. Gateway retention calls
// it with before at most now - OutcomeRetentionMin.
func PruneOutcomes(ctx context.Context, db *store.DB, before time.Time) (int, error) {
	type old struct{ kind, id string }
	var gone []old
	if err := db.View(func(tx *store.Tx) error {
		for _, kind := range []string{kindTopUp, kindFee} {
			if err := tx.ServiceResults(kind, func(id string, v []byte) error {
				if outcomeBefore(v, before) {
					gone = append(gone, old{kind, id})
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	n := 0
	for len(gone) > 0 && ctx.Err() == nil {
		chunk := gone[:min(len(gone), pruneChunk)]
		gone = gone[len(chunk):]
		done := 0
		if err := db.Update(ctx, func(tx *store.Tx) error {
			done = 0
			for _, g := range chunk {
				v, ok, err := tx.ServiceResult(g.kind, g.id)
				if err != nil {
					return err
				}
				if !ok || !outcomeBefore(v, before) {
					continue
				}
				if err := tx.DeleteServiceResult(g.kind, g.id); err != nil {
					return err
				}
				done++
			}
			return nil
		}); err != nil {
			return n, err
		}
		n += done
	}
	return n, ctx.Err()
}

// pruneChunk is how many answers one PruneOutcomes commit deletes.
const pruneChunk = 5000

// outcomeBefore reports whether the stored outcome v was given before t
// (false for one without a time, or that does not decode).
func outcomeBefore(v []byte, t time.Time) bool {
	var o struct {
		At time.Time `json:"at"`
	}
	return json.Unmarshal(v, &o) == nil && !o.At.IsZero() && o.At.Before(t)
}

// rfc3339 is the API's time format: UTC, to the second.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
