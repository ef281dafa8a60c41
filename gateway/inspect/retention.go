package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"ecardgw/store"
)

// Retention: journal records and outbox entries older than their
// retention are exported to a file in the archive directory first (CSV,
// the journal export's columns, written whole and fsynced), and only the
// records that file holds are then removed. A reconciliation that needs
// them reads the archive.

// ErrArchive means records were not pruned because their archive could
// not be written or did not hold them all.
var ErrArchive = errors.New("archive")

// Retention says what to prune; a zero age keeps everything of its kind.
type Retention struct {
	Journal time.Duration // journal records older than this
	Outbox  time.Duration // undelivered outbox entries older than this (they stay in the journal)
	// Idempotency: the idempotency records of requests journaled longer
	// ago than this (at most Journal, when that is set: the journal
	// records they belong to stay, so nothing is archived for them).
	Idempotency time.Duration
	Dir         string // the archive directory (required when an age is set)
	// Outcomes, when set, deletes the service API's remembered answers
	// given before before (service.PruneOutcomes). It runs with
	// Idempotency, with a cutoff of at least OutcomesMin.
	Outcomes func(ctx context.Context, db *store.DB, before time.Time) (int, error)
	// OutcomesMin is the least age of an answer Outcomes may delete.
	OutcomesMin time.Duration
	// KeepFrom, when set, returns the lowest sequence number something
	// else still needs (a second sink's position + 1); 0 for none.
	KeepFrom func(tx *store.Tx) (uint64, error)
	// Batch is the most records per archive file (default 100000).
	Batch int
}

// Pruned is what one Prune did.
type Pruned struct {
	Journal int // journal records archived and deleted
	Outbox  int // outbox entries archived and deleted
	Idem    int // idempotency records deleted
	// Outcomes is how many of the service API's remembered answers were
	// deleted.
	Outcomes int
	Files    []string // the archive files written
}

// pruneChunk is how many deletions one store transaction carries.
const pruneChunk = 5000

// Prune archives and removes what r says is old at now. Outbox entries
// go first, so that the journal records they held back can go too. It
// stops at the first error; what was archived and not yet deleted is
// archived again next time (the file is rewritten whole).
func Prune(ctx context.Context, db *store.DB, r Retention, now time.Time) (Pruned, error) {
	var p Pruned
	if r.Idempotency > 0 {
		// First, while the journal still holds the requests' records.
		n, err := pruneIdem(ctx, db, now.Add(-r.Idempotency))
		p.Idem = n
		if err != nil {
			return p, err
		}
		if r.Outcomes != nil {
			n, err := r.Outcomes(ctx, db, now.Add(-max(r.Idempotency, r.OutcomesMin)))
			p.Outcomes = n
			if err != nil {
				return p, err
			}
		}
	}
	if r.Journal <= 0 && r.Outbox <= 0 {
		return p, nil
	}
	if r.Dir == "" {
		return p, fmt.Errorf("%w: no archive directory", ErrArchive)
	}
	if r.Batch <= 0 {
		r.Batch = 100000
	}
	if r.Outbox > 0 {
		for ctx.Err() == nil {
			n, err := pruneOutbox(ctx, db, r, now.Add(-r.Outbox), &p)
			if err != nil || n < r.Batch {
				if err != nil {
					return p, err
				}
				break
			}
		}
	}
	if r.Journal > 0 {
		for ctx.Err() == nil {
			n, err := pruneJournal(ctx, db, r, now.Add(-r.Journal), &p)
			if err != nil || n < r.Batch {
				return p, err
			}
		}
	}
	return p, ctx.Err()
}

// pruneOutbox archives and deletes up to r.Batch outbox entries whose
// record was journaled before cutoff.
func pruneOutbox(ctx context.Context, db *store.DB, r Retention, cutoff time.Time, p *Pruned) (int, error) {
	var recs []store.Record
	err := db.View(func(tx *store.Tx) error {
		recs = recs[:0]
		return tx.Outbox(0, 0, func(seq, _ uint64) error {
			rec, ok, err := tx.JournalRecord(seq)
			if err != nil || !ok {
				return err
			}
			if !rec.Time.Before(cutoff) || len(recs) == r.Batch {
				return errFirst
			}
			recs = append(recs, rec)
			return nil
		})
	})
	if errors.Is(err, errFirst) {
		err = nil
	}
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	name := filepath.Join(r.Dir, fmt.Sprintf("outbox-%d-%d.csv", recs[0].Seq, recs[len(recs)-1].Seq))
	if err := archive(name, len(recs), func(w *Writer) error {
		for i := range recs {
			if err := w.Write(&recs[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	p.Files = append(p.Files, name)
	for i := 0; i < len(recs); i += pruneChunk {
		chunk := recs[i:min(i+pruneChunk, len(recs))]
		if err := db.Update(ctx, func(tx *store.Tx) error {
			for j := range chunk {
				if err := tx.DeleteOutbox(chunk[j].Seq); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return 0, err
		}
		p.Outbox += len(chunk)
	}
	return len(recs), nil
}

// pruneJournal archives and deletes up to r.Batch journal records from
// its start, journaled before cutoff and below everything still needed:
// the outbox, the dead letters, KeepFrom.
func pruneJournal(ctx context.Context, db *store.DB, r Retention, cutoff time.Time, p *Pruned) (int, error) {
	var from, to uint64
	count := 0
	err := db.View(func(tx *store.Tx) error {
		bound, err := keepBound(tx, r)
		if err != nil {
			return err
		}
		if from, err = tx.JournalStart(); err != nil {
			return err
		}
		return tx.JournalSince(from-1, func(rec *store.Record) error {
			if rec.Seq >= bound || !rec.Time.Before(cutoff) || count == r.Batch {
				return errFirst
			}
			to = rec.Seq
			count++
			return nil
		})
	})
	if errors.Is(err, errFirst) {
		err = nil
	}
	if err != nil || count == 0 {
		return 0, err
	}
	name := filepath.Join(r.Dir, fmt.Sprintf("journal-%d-%d.csv", from, to))
	if err := archive(name, count, func(w *Writer) error {
		_, err := Export(db, Range{Since: Bound{Seq: from}, Until: Bound{Seq: to + 1}}, w)
		return err
	}); err != nil {
		return 0, err
	}
	p.Files = append(p.Files, name)
	for next := from; ; {
		var n int
		var last uint64
		if err := db.Update(ctx, func(tx *store.Tx) error {
			var err error
			n, last, err = tx.PruneJournal(next, to, pruneChunk)
			return err
		}); err != nil {
			return 0, err
		}
		p.Journal += n
		if last >= to {
			break
		}
		next = last + 1
	}
	return count, nil
}

// keepBound is the lowest sequence number that must stay: the first in
// the outbox, the first dead letter, KeepFrom; ^0 when none.
func keepBound(tx *store.Tx, r Retention) (uint64, error) {
	bound := ^uint64(0)
	if err := tx.Outbox(0, 1, func(seq, _ uint64) error { bound = min(bound, seq); return nil }); err != nil {
		return 0, err
	}
	if err := tx.DeadLetters(func(d store.DeadLetter) error { bound = min(bound, d.Seq); return errFirst }); err != nil && !errors.Is(err, errFirst) {
		return 0, err
	}
	if r.KeepFrom != nil {
		k, err := r.KeepFrom(tx)
		if err != nil {
			return 0, err
		}
		if k != 0 {
			bound = min(bound, k)
		}
	}
	return bound, nil
}

// archive writes the CSV file name whole (fsynced, renamed into place)
// and checks that it holds want records.
func archive(name string, want int, fill func(*Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return fmt.Errorf("%w: %w", ErrArchive, err)
	}
	_, err := writeAtomic(name, func(f io.Writer) (int64, error) {
		w := NewWriter(f, FormatCSV)
		if err := fill(w); err != nil {
			return 0, err
		}
		if err := w.Flush(); err != nil {
			return 0, err
		}
		if w.Count() != want {
			return 0, fmt.Errorf("%w: %s: %d records written, %d to archive", ErrArchive, name, w.Count(), want)
		}
		return int64(w.Count()), nil
	}, nil)
	if err != nil && !errors.Is(err, ErrArchive) {
		err = fmt.Errorf("%w: %w", ErrArchive, err)
	}
	return err
}

// pruneIdem deletes the idempotency records of the requests journaled
// before cutoff (store.Tx.PruneIdem), pruneChunk records a commit.
func pruneIdem(ctx context.Context, db *store.DB, cutoff time.Time) (int, error) {
	var to uint64
	err := db.View(func(tx *store.Tx) error {
		from, err := tx.IdemPruned()
		if err != nil {
			return err
		}
		return tx.JournalSince(from, func(rec *store.Record) error {
			if !rec.Time.Before(cutoff) {
				return errFirst
			}
			to = rec.Seq
			return nil
		})
	})
	if errors.Is(err, errFirst) {
		err = nil
	}
	if err != nil || to == 0 {
		return 0, err
	}
	// The records to prune may still be in the idempotency logs, which a
	// quiet gateway merges only rarely: merge them now.
	if err := db.MergeIdemLogs(ctx); err != nil {
		return 0, err
	}
	total := 0
	for ctx.Err() == nil {
		var n int
		var last, before uint64
		if err := db.Update(ctx, func(tx *store.Tx) error {
			var err error
			if before, err = tx.IdemPruned(); err != nil {
				return err
			}
			n, last, err = tx.PruneIdem(to, pruneChunk)
			return err
		}); err != nil {
			return total, err
		}
		total += n
		if last >= to || last == before {
			break // done, or waiting for values still in the idempotency log
		}
	}
	return total, ctx.Err()
}
