package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store/storetest"
)

// The crash test re-runs this test binary as a child that writes through
// the group commit and prints the sequence number of every acknowledged
// Update; the parent kills it with SIGKILL at a random moment and checks
// that every acknowledged record is in the reopened file (promise 1 and 4).

const crashEnv = "ECARDGW_STORE_CRASH_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// crashChild writes until killed (bounded: 20 s or 100000 updates, so an
// orphan cannot run on).
func crashChild(path string) int {
	db, err := Open(path, Options{StorageKey: testKey})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	deadline := time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; i < 100000/16 && time.Now().Before(deadline); i++ {
				r := sampleRecord(uint64(w+1), uint32(i))
				r.Note = fmt.Sprintf("w%d-i%d", w, i)
				var seq uint64
				err := db.Update(context.Background(), func(tx *Tx) error {
					s, err := tx.AppendJournal(&r)
					seq = s
					return err
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %s\n", seq, r.Note)
				_ = out.Flush() // the ack leaves now, as an answer would
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	_ = db.Close()
	return 0
}

func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test kills a writer process with SIGKILL; make test runs it")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := map[uint64]string{}
	for round := range 3 {
		killAfter, got := storetest.KillAfterAcks(t, crashEnv+"="+path, 50*time.Millisecond, 300*time.Millisecond, func(line string) {
			seqStr, note, ok := strings.Cut(line, " ")
			require.True(t, ok, "child line %q", line)
			seq, err := strconv.ParseUint(seqStr, 10, 64)
			require.NoError(t, err)
			acked[seq] = note
		})
		require.Positive(t, got)
		t.Logf("round %d: killed after %v, %d acknowledged", round, killAfter, got)

		db, err := Open(path, Options{StorageKey: testKey})
		require.NoError(t, err, "reopen after kill -9")
		view(t, db, func(tx *Tx) error {
			require.GreaterOrEqual(t, tx.JournalLen(), uint64(len(acked)))
			found := 0
			require.NoError(t, tx.JournalSince(0, func(r *Record) error {
				if note, ok := acked[r.Seq]; ok {
					require.Equal(t, note, r.Note, "seq %d", r.Seq)
					found++
				}
				return nil
			}))
			require.Equal(t, len(acked), found, "acknowledged records lost")
			return nil
		})
		require.NoError(t, db.Close())
	}
}
