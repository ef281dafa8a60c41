package benchsuite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/forward"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// drain runs one forwarder over the backlog for at most limit and
// reports how many records it delivered and in how long.
func drain(ctx context.Context, db *store.DB, sink forward.Sink, position string, limit time.Duration) (int, time.Duration, error) {
	f := forward.New(forward.Options{DB: db, Sink: sink, Position: position, Batch: centre.MaxDelivery})
	before, _, err := f.Pending()
	if err != nil {
		return 0, 0, err
	}
	dctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t0 := time.Now()
	err = f.Flush(dctx)
	took := time.Since(t0)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && dctx.Err() == nil {
		return 0, took, err
	}
	after, _, err := f.Pending()
	if err != nil {
		return 0, took, err
	}
	return before - after, took, nil
}

// natsServer starts nats-server with JetStream on a free loopback port.
func natsServer(ctx context.Context, dir string) (url string, stop func(), err error) {
	addr, err := freePort()
	if err != nil {
		return "", nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.CommandContext(ctx, "nats-server", "-js", "-a", "127.0.0.1", "-p", port, "-sd", dir)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	for range 100 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return "nats://" + addr, stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("%w: nats-server did not listen on %s", ErrChild, addr)
}

// forwardFigure: the forwarder draining the restart figure's backlog to
// the reference centre over HTTP, then to a JetStream stream.
func (s *Suite) forwardFigure(ctx context.Context) (Figure, error) {
	f := Figure{Title: fmt.Sprintf("Forwarder drain of a %s-record backlog", commas(int64(s.JournalRecords))),
		What: fmt.Sprintf("The restart figure's store (%s purchase records, all in the outbox) drained by "+
			"`gateway/forward` with batches of %d: first to the reference centre (`gateway/testbed/refcentre`, in this "+
			"process, its 1,000 accounts imported) over its HTTP interface, each batch applied in one bbolt "+
			"transaction on the centre's side; then, from the same journal with its own position, to a NATS "+
			"JetStream stream (nats-server -js on a loopback port, file storage), one publish and "+
			"acknowledgement per record with the idempotency key as Nats-Msg-Id. Each drain runs for at most "+
			"%s; the rate is what it delivered in that time, and the time for the whole backlog is extrapolated "+
			"from it when it did not finish.", commas(int64(s.JournalRecords)), centre.MaxDelivery, s.DrainTime),
		Commands: []string{"go run ./cmd/benchsuite -out docs/BENCHMARKS.md   # in-process figure"}}
	if s.journalStore == "" {
		return f, fmt.Errorf("%w: no journal store from the restart figure", ErrMissing)
	}
	db, err := store.Open(s.journalStore, store.Options{StorageKey: s.journalKey})
	if err != nil {
		return f, err
	}
	defer db.Close()
	t := Table{Header: []string{"sink", "delivered", "in", "records/s", "whole backlog"}, Right: []bool{false, true, true, true, true}}
	row := func(name string, n int, d time.Duration) []string {
		rate := float64(n) / d.Seconds()
		whole := "n/a"
		if rate > 0 {
			whole = (time.Duration(float64(s.JournalRecords) / rate * float64(time.Second))).Round(time.Second).String()
			if n >= s.JournalRecords {
				whole = d.Round(time.Second).String()
			} else {
				whole = "≈ " + whole + " (extrapolated)"
			}
		}
		return []string{name, commas(int64(n)), d.Round(time.Millisecond).String(), num(rate), whole}
	}

	// The reference centre over HTTP.
	c, err := refcentre.Open(s.tmpDir("centre"))
	if err != nil {
		return f, err
	}
	defer c.Close()
	if _, _, err := c.Import(s.journalAccounts); err != nil {
		return f, err
	}
	srv, err := c.Listen("127.0.0.1:0", nil)
	if err != nil {
		return f, err
	}
	go func() { _ = srv.Serve() }()
	defer srv.Shutdown(context.Background())
	client, err := centre.New(centre.Options{URL: "http://" + srv.Addr()})
	if err != nil {
		return f, err
	}
	n, d, err := drain(ctx, db, forward.NewHTTPSink(client), "", s.DrainTime)
	if err != nil {
		return f, fmt.Errorf("HTTP drain: %w", err)
	}
	t.Rows = append(t.Rows, row("reference centre (HTTP)", n, d))
	httpRate := float64(n) / d.Seconds()

	// JetStream.
	natsDir := s.tmpDir("nats")
	url, stop, err := natsServer(ctx, natsDir)
	if err != nil {
		return f, err
	}
	defer stop()
	sink, err := forward.NewNATSSink(ctx, forward.NATSOptions{URL: url, Stream: "ECARDGW", Subject: "ecardgw.records"})
	if err != nil {
		return f, err
	}
	defer sink.Close()
	n2, d2, err := drain(ctx, db, sink, "jetstream", s.DrainTime)
	if err != nil {
		return f, fmt.Errorf("JetStream drain: %w", err)
	}
	t.Rows = append(t.Rows, row("JetStream (nats-server "+natsVersion()+")", n2, d2))
	f.Tables = []Table{t}
	f.Result = fmt.Sprintf("%s records/s to the centre, %s records/s to JetStream", num(httpRate), num(float64(n2)/d2.Seconds()))
	f.Notes = []string{"No goal is set for these two figures; they say how long a backlog of this size takes to clear after an outage."}
	return f, nil
}

func natsVersion() string {
	out, err := exec.Command("nats-server", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "nats-server: ")
}
