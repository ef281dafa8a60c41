package forward

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/metrics"
	"ecardgw/store"
)

// The crash test re-runs this test binary as a child that forwards a
// store's outbox to a reference centre run by the parent; the parent kills
// it with SIGKILL mid-delivery, runs a second child to the end and checks
// that every record reached the centre and none was applied twice
// (promises 3 and 4).

const crashEnv = "ECARDGW_FORWARD_CRASH"

func TestMain(m *testing.M) {
	if v := os.Getenv(crashEnv); v != "" {
		os.Exit(crashChild(v))
	}
	os.Exit(m.Run())
}

// crashChild forwards until the outbox is empty (bounded by 30 s so an
// orphan cannot run on).
func crashChild(arg string) int {
	path, url, ok := strings.Cut(arg, " ")
	if !ok {
		return 2
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	cl, err := centre.New(centre.Options{URL: url})
	if err != nil {
		return 2
	}
	f := New(Options{DB: db, Sink: NewHTTPSink(cl), Batch: 5, BackoffMin: time.Millisecond,
		BackoffMax: 10 * time.Millisecond, Poll: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	for ctx.Err() == nil {
		if n, _, err := f.Pending(); err == nil && n == 0 {
			cancel()
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 3
			}
			return 0
		}
		time.Sleep(time.Millisecond)
	}
	return 3
}

func TestKillNineMidDeliveryLosesNothingAppliesNothingTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test kills a forwarder process with SIGKILL; make test runs it")
	}
	const records, accounts, balance = 300, 5, 1_000_000
	dir := t.TempDir()
	c, err := refcentre.Open(filepath.Join(dir, "centre"))
	require.NoError(t, err)
	defer c.Close()
	rows := make([]store.Account, accounts)
	for i := range rows {
		card := fmt.Sprintf("%012d", 100000000001+i)
		rows[i] = store.Account{No: uint64(i + 1), Name: "Student", StaffNo: "S1", CardNumber: card,
			CardSerial: "10000000" + card, BalanceFen: balance}
	}
	_, _, err = c.Import(rows)
	require.NoError(t, err)
	c.SetFaults(refcentre.Faults{LatencyMS: 4}) // slow enough to be caught mid-way
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()

	path := filepath.Join(dir, "gw.db")
	db, err := store.Open(path, store.Options{})
	require.NoError(t, err)
	journal(t, db, 1, records, accounts)
	require.NoError(t, db.Close())

	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path+" "+srv.URL)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		return cmd
	}
	first := child()
	require.Eventually(t, func() bool { return c.Stats().RecordsApplied >= records/3 }, 20*time.Second, time.Millisecond)
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	applied := c.Stats().RecordsApplied
	require.Less(t, applied, uint64(records), "killed mid-delivery")

	second := child()
	require.NoError(t, second.Wait(), "the second run delivers the rest")

	st := c.Stats()
	require.Equal(t, uint64(records), st.RecordsApplied, "each stand-in purchase applied exactly once")
	require.Zero(t, st.RecordsRejected)
	for a := 1; a <= accounts; a++ {
		want := int64(balance)
		for i := 1; i <= records; i++ {
			if 1+i%accounts == a {
				want -= int64(i)
			}
		}
		got, ok, err := c.Account(uint64(a))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, got.BalanceFen, "account %d", a)
	}
	db, err = store.Open(path, store.Options{})
	require.NoError(t, err)
	defer db.Close()
	require.Zero(t, pending(t, db))
	t.Logf("applied %d before the kill, %d duplicates dropped by key after it", applied, st.RecordsDuplicate)
}

func TestHTTPSinkCentreDownThenBack(t *testing.T) {
	c, err := refcentre.Open(t.TempDir())
	require.NoError(t, err)
	defer c.Close()
	_, _, err = c.Import([]store.Account{{No: 1, Name: "A", StaffNo: "S1", CardNumber: "100000000001",
		CardSerial: "10000000100000000001", BalanceFen: 10000}})
	require.NoError(t, err)
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	cl, err := centre.New(centre.Options{URL: srv.URL})
	require.NoError(t, err)

	db := openDB(t, "")
	journal(t, db, 1, 10, 1)
	bad := standIn(11, 1)
	bad.Account = 99 // unknown at the centre: refused for good
	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error { _, err := tx.AppendJournal(&bad); return err }))
	journal(t, db, 12, 3, 1)

	c.SetFaults(refcentre.Faults{Down: true})
	m := metrics.New(metrics.BuildInfo{})
	f := New(Options{DB: db, Sink: NewHTTPSink(cl), Batch: 4, BackoffMin: time.Millisecond, BackoffMax: 10 * time.Millisecond,
		Poll: 5 * time.Millisecond, Metrics: m})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	require.Eventually(t, func() bool { return metric(t, m, "ecardgw_forwarder_retries_total", "centre") >= 3 },
		10*time.Second, time.Millisecond, "a few failed attempts while down")
	require.Equal(t, 14, pending(t, db))
	c.SetFaults(refcentre.Faults{FlapEvery: 1})
	require.Eventually(t, func() bool { return pending(t, db) == 0 }, 20*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)

	a, _, err := c.Account(1)
	require.NoError(t, err)
	require.Equal(t, int64(10000-(55+12+13+14)), a.BalanceFen)
	dl := deadLetters(t, db)
	require.Len(t, dl, 1)
	require.Equal(t, uint64(11), dl[0].Seq)
	require.Equal(t, "centre", dl[0].Sink)
	require.Equal(t, "purchase record for an unknown account", dl[0].Reason)
}
