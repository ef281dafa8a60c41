package inspect

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// retentionStore is a store with accounts 1..3 and journal records 1..20
// (record i journaled at t0 + i-1 s), of which 1..12 were delivered (out
// of the outbox), 14 is a dead letter and 13, 15..20 wait in the outbox.
func retentionStore(t *testing.T) *store.DB {
	t.Helper()
	db := openStore(t, filepath.Join(t.TempDir(), "gw.db"))
	_, _, err := db.ImportAccounts(context.Background(), []store.Account{
		{No: 1, Name: "A", CardNumber: "100000000001", Status: store.StatusActive},
		{No: 2, Name: "B", CardNumber: "100000000002", Status: store.StatusActive},
		{No: 3, Name: "C", CardNumber: "100000000003", Status: store.StatusActive},
	})
	require.NoError(t, err)
	appendRecords(t, db, 1, 20)
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		for seq := uint64(1); seq <= 12; seq++ {
			if err := tx.DeleteOutbox(seq); err != nil {
				return err
			}
		}
		if err := tx.DeleteOutbox(14); err != nil {
			return err
		}
		return tx.PutDeadLetter(store.DeadLetter{Seq: 14, Sink: "centre", At: t0, Reason: "refused"})
	}))
	return db
}

// archived reads the sequence numbers of an archive file.
func archived(t *testing.T, path string) []uint64 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, CSVColumns, rows[0])
	var seqs []uint64
	for _, r := range rows[1:] {
		n, err := strconv.ParseUint(r[0], 10, 64)
		require.NoError(t, err)
		seqs = append(seqs, n)
	}
	return seqs
}

func journalSeqs(t *testing.T, db *store.DB) []uint64 {
	t.Helper()
	var seqs []uint64
	require.NoError(t, db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error { seqs = append(seqs, r.Seq); return nil })
	}))
	return seqs
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// TestPruneOnlyWhatWasArchived: journal records older than the retention
// are written to an archive file and exactly those are deleted; records
// still in the outbox or dead letters, and those journaled since the
// cutoff, stay; the account chains end cleanly where the pruned part
// begins.
func TestPruneOnlyWhatWasArchived(t *testing.T) {
	db := retentionStore(t)
	dir := filepath.Join(t.TempDir(), "archive")
	now := t0.Add(time.Hour + 9*time.Second) // records 1..9 are older than an hour
	p, err := Prune(context.Background(), db, Retention{Journal: time.Hour, Dir: dir}, now)
	require.NoError(t, err)
	require.Equal(t, 9, p.Journal)
	require.Equal(t, []string{filepath.Join(dir, "journal-1-9.csv")}, p.Files)
	require.Equal(t, seqRange(1, 9), archived(t, p.Files[0]))
	require.Equal(t, seqRange(10, 20), journalSeqs(t, db))

	// Later everything is old, but 13 (outbox) holds the journal back.
	p, err = Prune(context.Background(), db, Retention{Journal: time.Hour, Dir: dir}, now.Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 3, p.Journal)
	require.Equal(t, seqRange(10, 12), archived(t, filepath.Join(dir, "journal-10-12.csv")))
	require.Equal(t, seqRange(13, 20), journalSeqs(t, db))
	require.Equal(t, seqRange(1, 9), archived(t, filepath.Join(dir, "journal-1-9.csv")), "the first archive is untouched")

	require.NoError(t, db.View(func(tx *store.Tx) error {
		require.Equal(t, uint64(20), tx.JournalLen(), "sequence numbers are not reused")
		for acct := uint64(1); acct <= 3; acct++ {
			recs, err := tx.LastJournal(100, acct)
			require.NoError(t, err, "the chain of account %d ends at the pruned part", acct)
			for _, r := range recs {
				require.GreaterOrEqual(t, r.Seq, uint64(13))
			}
		}
		return nil
	}))
	_, err = Export(db, Range{Since: Bound{Seq: 1}}, NewWriter(ioDiscard{}, FormatCSV))
	require.NoError(t, err, "an export over the pruned part still works")
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }

// Outbox retention archives the old undelivered entries and takes them
// out of the outbox (the journal keeps them); then the journal can go
// up to the dead letter.
func TestPruneOutbox(t *testing.T) {
	db := retentionStore(t)
	dir := t.TempDir()
	now := t0.Add(time.Hour + 16*time.Second) // 1..16 older than an hour
	p, err := Prune(context.Background(), db, Retention{Outbox: time.Hour, Journal: time.Hour, Dir: dir}, now)
	require.NoError(t, err)
	require.Equal(t, 3, p.Outbox, "13, 15, 16")
	require.Equal(t, []uint64{13, 15, 16}, archived(t, filepath.Join(dir, "outbox-13-16.csv")))
	require.Equal(t, 13, p.Journal, "up to the dead letter 14")
	require.Equal(t, seqRange(1, 13), archived(t, filepath.Join(dir, "journal-1-13.csv")))
	require.Equal(t, seqRange(14, 20), journalSeqs(t, db))
	var outbox []uint64
	require.NoError(t, db.View(func(tx *store.Tx) error {
		return tx.Outbox(0, 0, func(seq, _ uint64) error { outbox = append(outbox, seq); return nil })
	}))
	require.Equal(t, seqRange(17, 20), outbox)
}

// When the archive cannot be written nothing is pruned.
func TestPruneWithoutArchiveKeepsEverything(t *testing.T) {
	db := retentionStore(t)
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	_, err := Prune(context.Background(), db, Retention{Journal: time.Hour, Outbox: time.Hour, Dir: filepath.Join(blocker, "archive")},
		t0.Add(48*time.Hour))
	require.ErrorIs(t, err, ErrArchive)
	require.Equal(t, seqRange(1, 20), journalSeqs(t, db))

	_, err = Prune(context.Background(), db, Retention{Journal: time.Hour}, t0.Add(48*time.Hour))
	require.ErrorIs(t, err, ErrArchive, "no archive directory")

	// A batch of 4: several files, the same result.
	dir := t.TempDir()
	p, err := Prune(context.Background(), db, Retention{Journal: time.Hour, Dir: dir, Batch: 4}, t0.Add(48*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 12, p.Journal)
	require.Len(t, p.Files, 3)
	require.Equal(t, seqRange(13, 20), journalSeqs(t, db))
}
