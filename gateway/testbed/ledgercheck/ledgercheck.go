// Package ledgercheck asserts, for tests in connected mode, that a
// gateway's ledger and the reference centre's agree: every account's
// balance is the same at both once the gateway's outbox has drained, and
// `ecardgw reconcile` (centre.Reconcile) finds no differences.
//
// The gateway may run in the test's process (pass its store, daemon.DB)
// or as a process of its own (pass its admin address and admin token: the
// store is then read from a backup, as `ecardgw reconcile` reads it).
package ledgercheck

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/inspect"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// Snapshot is one reading of both ledgers.
type Snapshot struct {
	Backlog     int                 // journal records the gateway has not yet delivered
	Differences []centre.Difference // accounts whose balance differs, or that one side lacks
}

// OK reports whether the outbox is empty and the balances agree.
func (s Snapshot) OK() bool { return s.Backlog == 0 && len(s.Differences) == 0 }

func (s Snapshot) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d records not yet delivered, %d differences", s.Backlog, len(s.Differences))
	for i, d := range s.Differences {
		if i == 20 {
			fmt.Fprintf(&b, "\n... and %d more", len(s.Differences)-i)
			break
		}
		b.WriteString("\n" + d.String())
	}
	return b.String()
}

// Compare reads the gateway's outbox and balances from db and the
// centre's balances, and reports how they differ.
func Compare(db *store.DB, c *refcentre.Centre) (Snapshot, error) {
	var s Snapshot
	gw := map[uint64]int64{}
	err := db.View(func(tx *store.Tx) error {
		if err := tx.Outbox(0, 0, func(uint64, uint64) error { s.Backlog++; return nil }); err != nil {
			return err
		}
		return tx.ForEachAccount(func(a *store.Account) error {
			gw[a.No] = a.BalanceFen
			return nil
		})
	})
	if err != nil {
		return s, err
	}
	ce, err := c.Balances()
	if err != nil {
		return s, err
	}
	s.Differences = centre.CompareBalances(gw, ce)
	return s, nil
}

// Backup copies the store of a gateway running in another process
// through its admin listener (GET /backup with an admin token) into a
// file under t.TempDir and opens it read-only; it is closed at the end of
// the test.
func Backup(t testing.TB, adminAddr, token string) *store.DB {
	t.Helper()
	dir, err := os.MkdirTemp(t.TempDir(), "backup-")
	if err != nil {
		t.Fatalf("ledgercheck: %v", err)
	}
	path := filepath.Join(dir, "gw.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("ledgercheck: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = inspect.FetchBackup(ctx, &http.Client{}, adminAddr, token, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("ledgercheck: backup from %s: %v", adminAddr, err)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("ledgercheck: open the backup: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Poll is how often the Require functions read both ledgers again.
const Poll = 100 * time.Millisecond

// RequireBalancesEqual waits up to within for the gateway (store db) to
// have delivered every record and for every account's balance to be the
// same at the gateway and at the centre, and fails the test with the
// differences if that does not happen. The gateway reads the centre's
// balances again within a second of the centre applying a record, so a
// few seconds are enough once the outbox drains.
func RequireBalancesEqual(t testing.TB, db *store.DB, c *refcentre.Centre, within time.Duration) {
	t.Helper()
	waitEqual(t, func() (Snapshot, error) { return Compare(db, c) }, within)
}

// RequireBalancesEqualAdmin is RequireBalancesEqual for a gateway running
// in another process, read through backups from its admin listener.
func RequireBalancesEqualAdmin(t testing.TB, adminAddr, token string, c *refcentre.Centre, within time.Duration) {
	t.Helper()
	waitEqual(t, func() (Snapshot, error) {
		db := Backup(t, adminAddr, token)
		defer db.Close()
		return Compare(db, c)
	}, within)
}

func waitEqual(t testing.TB, read func() (Snapshot, error), within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s, err := read()
		if err != nil {
			t.Fatalf("ledgercheck: %v", err)
		}
		if s.OK() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledgercheck: the gateway and the centre still differ after %v: %s", within, s)
		}
		time.Sleep(Poll)
	}
}

// RequireReconciled runs centre.Reconcile (what `ecardgw reconcile`
// runs) between the gateway's store db and the centre at centreURL for
// [from, to), and fails the test with every difference it reports.
func RequireReconciled(t testing.TB, db *store.DB, centreURL string, from, to time.Time) {
	t.Helper()
	cl, err := centre.New(centre.Options{URL: centreURL, Timeout: 5 * time.Second, CallTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("ledgercheck: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := centre.Reconcile(ctx, cl, db, centre.ReconcileOptions{From: from, To: to})
	if err != nil {
		t.Fatalf("ledgercheck: reconcile: %v", err)
	}
	if len(rep.Differences) > 0 || rep.Backlog > 0 {
		t.Fatalf("ledgercheck: reconcile: %s", Snapshot{Backlog: rep.Backlog, Differences: rep.Differences})
	}
}
