package benchsuite

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/testbed/posim"
	"ecardgw/store"
	"log/slog"
)

// fillJournal appends n purchase records to the store in groups.
func fillJournal(ctx context.Context, path string, key []byte, n, accounts int) error {
	db, err := store.Open(path, store.Options{StorageKey: key})
	if err != nil {
		return err
	}
	const group = 20_000
	now := time.Now().UTC()
	for done := 0; done < n; {
		k := min(group, n-done)
		from := done
		err := db.Update(ctx, func(tx *store.Tx) error {
			for i := from; i < from+k; i++ {
				acct := uint64(i%accounts + 1)
				rec := store.Record{Time: now.Add(time.Duration(i) * time.Millisecond),
					Key:  store.IdemKey{Terminal: fmt.Sprintf("T%07d", i%1000+1), Batch: uint32(i/999_999 + 1), STAN: uint32(i%999_999 + 1), MTI: 200},
					Kind: store.KindPurchase, Account: acct, CardMasked: "1000****" + fmt.Sprintf("%04d", acct%10000),
					Channel: store.ChannelCampus, Amount: 1200, Resp: "00", RRN: fmt.Sprintf("%012d", i), Auth: "123456",
					BalanceAfter: 1_000_000, Location: "North canteen"}
				if _, err := tx.AppendJournal(&rec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			_ = db.Close()
			return err
		}
		done += k
	}
	return db.Close()
}

// restartFigure: time from daemon.New to /readyz 200 over a large journal.
func (s *Suite) restartFigure(ctx context.Context) (Figure, error) {
	n := s.JournalRecords
	f := Figure{Title: fmt.Sprintf("Restart with %s journal records to ready", commas(int64(n))), Goal: restartGoalText(),
		What: fmt.Sprintf("A store holding %s purchase records (journal, outbox and per-account index, written "+
			"directly through `store.DB.Update` in groups of 20,000), then the time from `daemon.New` (open the "+
			"bbolt file, check it, build the engine and listeners) through `Start` until the admin listener's "+
			"`/readyz` answers 200, in this process, with the default `store.check_wait` (250 ms): the "+
			"consistency check over every page decides the start when it ends within that, and goes on behind "+
			"the serving gateway when it does not (the last column says which, and how long it took). First "+
			"with the file's pages still in the page cache (a restart of the process), then, where the suite may "+
			"drop the page cache, cold (as after a reboot); the goal is judged on the slower.", commas(int64(n))),
		Commands: []string{"go run ./cmd/benchsuite -out docs/BENCHMARKS.md   # in-process figure"}}
	env, err := posim.WriteEnv(posim.EnvSpec{Dir: s.tmpDir("restart"), POS: 4, Accounts: 1000})
	if err != nil {
		return f, err
	}
	keys, err := config.LoadKeys(env.Keys)
	if err != nil {
		return f, err
	}
	t0 := time.Now()
	if err := fillJournal(ctx, env.Store, keys.StorageKey, n, 1000); err != nil {
		return f, err
	}
	fill := time.Since(t0)
	s.journalStore, s.journalKey = env.Store, keys.StorageKey
	s.journalAccounts = make([]store.Account, 1000)
	for i := range s.journalAccounts {
		c := posim.CardNumber(i + 1)
		s.journalAccounts[i] = store.Account{No: uint64(i + 1), Name: fmt.Sprintf("Student %d", i+1), CardNumber: c,
			CardSerial: "86100001" + c, BalanceFen: 1_000_000_000, Status: store.StatusActive}
	}
	st, err := os.Stat(env.Store)
	if err != nil {
		return f, err
	}
	var ready time.Duration
	var readyCheck string
	prof := filepath.Join(s.Tmp, "restart.pprof")
	err = s.profiled(prof, func() error {
		var err error
		ready, readyCheck, err = timeToReady(ctx, env)
		return err
	})
	if err != nil {
		return f, err
	}
	size := fmt.Sprintf("%.0f MiB", float64(st.Size())/(1<<20))
	t := Table{Header: []string{"page cache", "journal records", "store file", "fill time", "New → /readyz 200", "consistency check (every page)"},
		Right: []bool{false, true, true, true, true, false},
		Rows:  [][]string{{"warm", commas(int64(n)), size, fill.Round(time.Millisecond).String(), ready.Round(time.Microsecond).String(), readyCheck}}}
	worst, worstProf := ready, prof
	// A cold start (after a reboot) reads the file from disk: drop the
	// page cache if this process may (root), and measure again.
	if dropCaches() == nil {
		coldProf := filepath.Join(s.Tmp, "restart-cold.pprof")
		var cold time.Duration
		var coldCheck string
		err := s.profiled(coldProf, func() (err error) {
			cold, coldCheck, err = timeToReady(ctx, env)
			return err
		})
		if err == nil {
			t.Rows = append(t.Rows, []string{"cold (dropped)", commas(int64(n)), size, "", cold.Round(time.Microsecond).String(), coldCheck})
			if cold > worst {
				worst, worstProf = cold, coldProf
			}
		}
	} else {
		f.Notes = append(f.Notes, "The page cache could not be dropped (not root), so only the warm restart is measured.")
	}
	f.Tables = []Table{t}
	f.Result = fmt.Sprintf("ready in **%s** (the slower of warm and cold)", worst.Round(time.Millisecond))
	f.Status, f.Margin = margin(worst.Seconds(), restartGoal.Seconds(), false)
	s.missProfile(ctx, &f, worstProf)
	if f.Status == Missed {
		if note := openProbe(env.Store, s.journalKey, st.Size()); note != "" {
			f.Notes = append(f.Notes, note)
		}
	}
	return f, nil
}

func timeToReady(ctx context.Context, env *posim.Env) (time.Duration, string, error) {
	t0 := time.Now()
	cfg, err := config.Load(env.Config)
	if err != nil {
		return 0, "", err
	}
	keys, err := config.LoadKeys(cfg.Keys.File)
	if err != nil {
		return 0, "", err
	}
	d, err := daemon.New(cfg, keys, daemon.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return 0, "", err
	}
	if err := d.Start(); err != nil {
		return 0, "", err
	}
	defer d.Stop()
	if err := waitReady(ctx, "http://"+d.Admin.Addr()+"/readyz", 30*time.Second, time.Millisecond); err != nil {
		return 0, "", err
	}
	ready := time.Since(t0)
	return ready, checkNote(ctx, d.DB, cfg.Store.CheckWait), nil
}

// checkNote says when the store's consistency check ended: before the
// start served (within store.check_wait) or behind it, and how long it
// took; it waits for a check still running.
func checkNote(ctx context.Context, db *store.DB, wait time.Duration) string {
	st := db.OpenStats()
	if !st.CheckBehind {
		return fmt.Sprintf("before ready: %s (read-ahead %s, %d MiB from the disk)",
			(st.ReadAhead + st.Check).Round(time.Millisecond), st.ReadAhead.Round(time.Millisecond), st.ReadBytes>>20)
	}
	cs, err := db.WaitCheck(ctx)
	if err != nil {
		return fmt.Sprintf("behind the start (after %s): %v", wait, err)
	}
	return fmt.Sprintf("behind the start (after %s), done in %s (read-ahead %s, %d MiB from the disk)",
		wait, cs.Took.Round(time.Millisecond), cs.ReadAhead.Round(time.Millisecond), cs.ReadBytes>>20)
}

// waitReady polls url until it answers 200.
func waitReady(ctx context.Context, url string, limit, every time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s not ready: %v", ErrChild, url, ctx.Err())
		case <-time.After(every):
		}
	}
}

// dropCaches writes back dirty pages and empties the page cache, so the
// next read of the store comes from the disk.
func dropCaches() error {
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200)
}

// openProbe times store.Open alone on a cold page cache, with and without
// the consistency check it runs at every open, to tell the check's share
// of a slow restart.
func openProbe(path string, key []byte, size int64) string {
	timeOpen := func(skip bool) (time.Duration, error) {
		if err := dropCaches(); err != nil {
			return 0, err
		}
		t0 := time.Now()
		db, err := store.Open(path, store.Options{StorageKey: key, SkipCheck: skip})
		if err != nil {
			return 0, err
		}
		d := time.Since(t0)
		return d, db.Close()
	}
	with, err := timeOpen(false)
	if err != nil {
		return ""
	}
	without, err := timeOpen(true)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("What a cold restart waits for: `store.Open` alone, page cache dropped, took %s with "+
		"the consistency check it runs at every open (the file read in order, then bbolt's `Tx.Check` over "+
		"every page: %.0f MiB at %.0f MiB/s here) and %s with `store.Options.SkipCheck`. The CPU profile is "+
		"nearly empty when the time is spent waiting for the disk: then this disk reads the file more slowly "+
		"than the goal allows, and only a check that reads less of it at start would do.", with.Round(time.Millisecond), float64(size)/(1<<20), float64(size)/(1<<20)/with.Seconds(),
		without.Round(time.Millisecond))
}
