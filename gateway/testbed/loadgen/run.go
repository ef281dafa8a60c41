package loadgen

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Result summarises a run. Latencies are from writing a request to
// reading its answer, measured on the client.
type Result struct {
	Conns      int           // connections that got through dial and Setup
	ConnErrors int           // connections that did not
	Count      int64         // answers received that passed Check
	Errors     int64         // Check failures and I/O errors during the timed phase
	FirstError error         // the first of those errors or of ConnErrors, for a hint
	Duration   time.Duration // timed phase, from the common start to the last answer
	Throughput float64       // Count per second of Duration
	P50        time.Duration
	P90        time.Duration
	P99        time.Duration
	P999       time.Duration
	Min        time.Duration
	Max        time.Duration
	Mean       time.Duration
	Hist       *Histogram // all latencies, merged over connections
}

func (r Result) String() string {
	return fmt.Sprintf("conns=%d count=%d errors=%d dur=%v rate=%.0f/s p50=%v p90=%v p99=%v p999=%v max=%v",
		r.Conns, r.Count, r.Errors, r.Duration.Round(time.Millisecond), r.Throughput,
		r.P50, r.P90, r.P99, r.P999, r.Max)
}

// Run drives the load described by cfg and returns when every connection
// has stopped: the duration is over, the request budget is spent, or ctx
// ended (the error is then ctx's, with the partial Result).
func Run(ctx context.Context, cfg Config) (Result, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	var budget *atomic.Int64
	if c.Requests > 0 {
		budget = new(atomic.Int64)
		budget.Store(c.Requests)
	}
	var (
		ready   sync.WaitGroup
		done    sync.WaitGroup
		start   = make(chan struct{})
		workers = make([]*worker, c.Conns)
		shards  = make([]shard, min(c.Conns, maxShards))
		t0      time.Time
	)
	for i := range workers {
		w := &worker{idx: i, cfg: &c, hist: &shards[i%len(shards)]}
		workers[i] = w
		ready.Add(1)
		done.Go(func() {
			conn, err := w.connect(ctx)
			ready.Done()
			if err != nil {
				w.connErr = err
				return
			}
			defer conn.Close()
			<-start
			w.loop(ctx, conn, t0.Add(c.Duration), budget)
		})
	}
	// All connections are set up before the clock starts, so sign-ins and
	// the dial storm are not part of the measurement.
	ready.Wait()
	t0 = time.Now()
	close(start)
	done.Wait()
	elapsed := time.Since(t0)

	res := Result{Duration: elapsed, Hist: new(Histogram)}
	for _, w := range workers {
		if w.connErr != nil {
			res.ConnErrors++
			if res.FirstError == nil {
				res.FirstError = w.connErr
			}
			continue
		}
		res.Conns++
		res.Count += w.count
		res.Errors += w.errors
		if res.FirstError == nil {
			res.FirstError = w.firstErr
		}
	}
	for i := range shards {
		res.Hist.Merge(&shards[i].h)
	}
	h := res.Hist
	res.P50, res.P90, res.P99, res.P999 = h.Quantile(0.50), h.Quantile(0.90), h.Quantile(0.99), h.Quantile(0.999)
	res.Min, res.Max, res.Mean = h.Min(), h.Max(), h.Mean()
	if elapsed > 0 {
		res.Throughput = float64(res.Count) / elapsed.Seconds()
	}
	if res.Conns == 0 {
		return res, fmt.Errorf("%w: %w", ErrNoConnection, res.FirstError)
	}
	return res, ctx.Err()
}

// maxShards bounds the histograms of a run: one per connection would be
// 18 kB × 10,000 connections. Connections share a shard under a mutex;
// the critical section is a few nanoseconds, so contention is negligible
// next to a network round trip.
const maxShards = 64

type shard struct {
	mu sync.Mutex
	h  Histogram
}

func (s *shard) record(d time.Duration) {
	s.mu.Lock()
	s.h.Record(d)
	s.mu.Unlock()
}

// worker is one connection's closed loop.
type worker struct {
	idx      int
	cfg      *Config
	hist     *shard
	count    int64
	errors   int64
	firstErr error
	connErr  error
}

func (w *worker) connect(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: w.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", w.cfg.Addr)
	if err != nil {
		return nil, err
	}
	if w.cfg.Setup != nil {
		if err := w.cfg.Setup(w.idx, conn); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("loadgen: setup of connection %d: %w", w.idx, err)
		}
	}
	return conn, nil
}

func (w *worker) fail(err error) {
	w.errors++
	if w.firstErr == nil {
		w.firstErr = err
	}
}

// loop keeps Pipeline requests outstanding until the deadline or the
// budget stops it, then collects the answers still due.
func (w *worker) loop(ctx context.Context, conn net.Conn, deadline time.Time, budget *atomic.Int64) {
	// A cancelled ctx must also end a read that is blocked in the kernel.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	cfg := w.cfg
	br := bufio.NewReaderSize(conn, 4096)   // larger frames are read around it
	sent := make([]time.Time, cfg.Pipeline) // ring of send times, answers come in order
	var (
		wbuf        []byte
		rbuf        = make([]byte, 0, 512)
		seq         uint64
		head, out   int
		stopping    bool
		ioDeadline  time.Time
		refreshFrom time.Time
	)
	for {
		now := time.Now()
		if now.After(refreshFrom) {
			// Moving the socket deadline costs a timer update; doing it
			// every half timeout instead of every request keeps it off
			// the profile.
			ioDeadline = now.Add(cfg.IOTimeout)
			refreshFrom = now.Add(cfg.IOTimeout / 2)
			if err := conn.SetDeadline(ioDeadline); err != nil {
				w.fail(err)
				return
			}
		}
		wbuf = wbuf[:0]
		for !stopping && out < cfg.Pipeline {
			if now.After(deadline) || ctx.Err() != nil || (budget != nil && budget.Add(-1) < 0) {
				stopping = true
				break
			}
			before := len(wbuf)
			wbuf = cfg.Next(w.idx, seq, wbuf)
			if len(wbuf) <= before {
				// Waiting for an answer to nothing would only end in a
				// timeout; stop this connection with a clear error.
				w.fail(fmt.Errorf("%w: connection %d, request %d", ErrEmptyRequest, w.idx, seq))
				stopping = true
				break
			}
			at := time.Now() // Next may have waited (a paced load)
			if cfg.Scheduled != nil {
				at = cfg.Scheduled(w.idx, seq)
			}
			seq++
			sent[(head+out)%cfg.Pipeline] = at
			out++
		}
		if len(wbuf) > 0 {
			if _, err := conn.Write(wbuf); err != nil {
				w.fail(err)
				return
			}
		}
		if out == 0 {
			return
		}
		var err error
		rbuf, err = readFrame(br, rbuf, cfg.MaxFrame)
		if err != nil {
			w.fail(err)
			return
		}
		w.hist.record(time.Since(sent[head]))
		head = (head + 1) % cfg.Pipeline
		out--
		if cfg.Check != nil {
			if err := cfg.Check(w.idx, rbuf); err != nil {
				w.fail(err)
				continue
			}
		}
		w.count++
	}
}

// readFrame reads one LEN-prefixed frame into buf (reused). LEN is read
// into buf itself: a local array would escape through io.ReadFull and cost
// an allocation per answer.
func readFrame(br *bufio.Reader, buf []byte, maxFrame int) ([]byte, error) {
	if cap(buf) < 2 {
		buf = make([]byte, 0, 512)
	}
	buf = buf[:2]
	if _, err := io.ReadFull(br, buf); err != nil {
		return buf, err
	}
	n := int(binary.BigEndian.Uint16(buf))
	if n > maxFrame {
		return buf, fmt.Errorf("%w: %d", ErrFrame, n)
	}
	if cap(buf) < 2+n {
		buf = append(make([]byte, 0, 2+n), buf...)
	}
	buf = buf[:2+n]
	if _, err := io.ReadFull(br, buf[2:]); err != nil {
		return buf, err
	}
	return buf, nil
}
