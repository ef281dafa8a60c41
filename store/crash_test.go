package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())

		sc := bufio.NewScanner(stdout)
		killAfter := time.Duration(50+rand.IntN(250)) * time.Millisecond
		var timer *time.Timer
		got := 0
		for sc.Scan() {
			line := sc.Text()
			seqStr, note, ok := strings.Cut(line, " ")
			require.True(t, ok, "child line %q", line)
			seq, err := strconv.ParseUint(seqStr, 10, 64)
			require.NoError(t, err)
			acked[seq] = note
			got++
			if timer == nil {
				timer = time.AfterFunc(killAfter, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
			}
		}
		// A line cut by the kill has no newline and is not scanned: it was
		// not fully acknowledged.
		err = cmd.Wait()
		require.Error(t, err, "child must die by SIGKILL, stderr: %s", stderr.String())
		require.NotNil(t, timer, "child acknowledged nothing; stderr: %s", stderr.String())
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
