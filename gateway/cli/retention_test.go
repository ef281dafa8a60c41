package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// archiveSeqs reads the first column (seq) of an archive file.
func archiveSeqs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	var seqs []string
	for _, r := range rows[1:] {
		seqs = append(seqs, r[0])
	}
	return seqs
}

func journalOf(t *testing.T, db *store.DB) []uint64 {
	t.Helper()
	var seqs []uint64
	require.NoError(t, db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error { seqs = append(seqs, r.Seq); return nil })
	}))
	return seqs
}

// TestStorePrune: on a stopped gateway `ecardgw store prune` archives the
// records older than retention.journal and removes exactly those; the
// journal export afterwards starts at the first record kept.
func TestStorePrune(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "archive")
	// The cutoff is a day after the seeded records: 1..4 are older, the
	// ones journaled now are not.
	keep := (time.Since(opsT0) - 24*time.Hour).Round(time.Hour)
	cfg, dbPath := writeOpsConfigWith(t, freeAddr(t), "retention: {journal: "+keep.String()+", archive_dir: "+archive+"}\n", "")
	seedStore(t, dbPath, 3)
	db, err := store.Open(dbPath, store.Options{})
	require.NoError(t, err)
	now := time.Now().UTC()
	for i := 4; i <= 6; i++ {
		r := opsRecord(i)
		if i > 4 {
			r.Time = now // journaled just now
		}
		require.NoError(t, db.Update(t.Context(), func(tx *store.Tx) error { _, err := tx.AppendJournal(r); return err }))
	}
	// Delivered, all of them: nothing in the outbox holds the journal back.
	require.NoError(t, db.Update(t.Context(), func(tx *store.Tx) error {
		for seq := uint64(1); seq <= 6; seq++ {
			if err := tx.DeleteOutbox(seq); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())

	code, out, errOut := runCLI(t, "--config", cfg, "store", "prune")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "archived and pruned 4 journal records and 0 outbox entries\n")
	file := filepath.Join(archive, "journal-1-4.csv")
	require.Contains(t, out, "archive "+file+"\n")
	require.Equal(t, []string{"1", "2", "3", "4"}, archiveSeqs(t, file))
	requireClean(t, mustRead(t, file))

	code, out, errOut = runCLI(t, "--config", cfg, "journal", "export", "--since", "1", "--format", "json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "exported 2 records")
	require.True(t, strings.HasPrefix(out, `{"seq":5,`), out)

	code, out, errOut = runCLI(t, "--config", cfg, "store", "prune")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "archived and pruned 0 journal records and 0 outbox entries\n", out)
}

// The running gateway prunes by itself every retention.interval: here
// the outbox leftovers of a gateway without a sink, then the journal.
func TestRetentionInTheGateway(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "archive")
	cfg, dbPath := writeOpsConfigWith(t, freeAddr(t),
		"retention: {journal: 24h, outbox: 24h, archive_dir: "+archive+", interval: 1s}\n", "admin_tokens: ["+opsAdminToken+"]\n")
	seedStore(t, dbPath, 5) // journaled in 2026-11 and in the outbox
	d, log := startLoggedDaemon(t, cfg)
	require.Eventually(t, func() bool { return len(journalOf(t, d.DB)) == 0 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{"1", "2", "3", "4", "5"}, archiveSeqs(t, filepath.Join(archive, "outbox-1-5.csv")))
	require.Equal(t, []string{"1", "2", "3", "4", "5"}, archiveSeqs(t, filepath.Join(archive, "journal-1-5.csv")))
	require.Eventually(t, func() bool {
		return strings.Contains(log.String(), `msg="retention: archived and pruned" journal=5 outbox=5`)
	},
		5*time.Second, 10*time.Millisecond)
	code, out, errOut := runCLI(t, "--config", cfg, "status", "--json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"records": 0`)
}

// TestStorePruneIdempotency: retention.idempotency deletes the idempotency
// records of requests older than it (a retransmission of one would be a
// new request; its batch and STAN may be used again) and keeps the
// journal; recent requests keep theirs.
func TestStorePruneIdempotency(t *testing.T) {
	keep := (time.Since(opsT0) - 24*time.Hour).Round(time.Hour)
	cfg, dbPath := writeOpsConfigWith(t, freeAddr(t), "retention: {idempotency: "+keep.String()+"}\n", "")
	db, err := store.Open(dbPath, store.Options{})
	require.NoError(t, err)
	now := time.Now().UTC()
	for i := 1; i <= 6; i++ {
		r := opsRecord(i)
		if i > 4 {
			r.Time = now
		}
		require.NoError(t, db.Update(t.Context(), func(tx *store.Tx) error {
			if _, err := tx.AppendJournal(r); err != nil {
				return err
			}
			return tx.PutIdemTxn(r.Key, store.Fingerprint{}, []byte("answer"), &store.TxnState{Key: r.Key, Account: 1, Amount: r.Amount,
				Kind: store.KindPurchase, Time: r.Time})
		}))
	}
	require.NoError(t, db.Close())

	code, out, errOut := runCLI(t, "--config", cfg, "store", "prune")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "pruned 4 idempotency records\n")

	db, err = store.Open(dbPath, store.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *store.Tx) error {
		for i := 1; i <= 6; i++ {
			_, ok, err := tx.Idem(opsRecord(i).Key)
			require.NoError(t, err)
			require.Equal(t, i > 4, ok, "request %d", i)
		}
		return nil
	}))
	require.Equal(t, []uint64{1, 2, 3, 4, 5, 6}, journalOf(t, db), "the journal keeps every record")
}

// store prune also forgets the service API's remembered answers older
// than retention.idempotency, but never younger than the 7 days a
// channel's notification retries need (service.OutcomeRetentionMin);
// answers without a time stay.
func TestStorePruneServiceAnswers(t *testing.T) {
	cfg, dbPath := writeOpsConfigWith(t, freeAddr(t), "retention: {idempotency: 24h}\n", "")
	db, err := store.Open(dbPath, store.Options{})
	require.NoError(t, err)
	now := time.Now().UTC()
	answer := func(at time.Time) []byte {
		if at.IsZero() {
			return []byte(`{"v":1,"digest":"d","status":200,"body":{}}`)
		}
		return []byte(`{"v":1,"digest":"d","status":200,"body":{},"at":"` + at.Format(time.RFC3339Nano) + `"}`)
	}
	answers := map[string]time.Time{"old": now.Add(-10 * 24 * time.Hour), "days": now.Add(-2 * 24 * time.Hour), "legacy": {}}
	require.NoError(t, db.Update(t.Context(), func(tx *store.Tx) error {
		for id, at := range answers {
			if err := tx.PutServiceResult("topup", id, answer(at)); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.Close())

	code, out, errOut := runCLI(t, "--config", cfg, "store", "prune")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "pruned 1 service API answers\n")

	db, err = store.Open(dbPath, store.Options{ReadOnly: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.View(func(tx *store.Tx) error {
		for id, want := range map[string]bool{"old": false, "days": true, "legacy": true} {
			_, ok, err := tx.ServiceResult("topup", id)
			require.NoError(t, err)
			require.Equal(t, want, ok, id)
		}
		return nil
	}))
}
