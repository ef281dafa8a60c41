package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

// gated is an echo handler that blocks until release is called: a slow
// handler (a stuck disk, a slow centre) that catches up all at once.
// Register release as a cleanup after start, so that a failed test does
// not leave the workers stuck in Shutdown.
func gated() (h Handler, release func(), entered *atomic.Int64) {
	gate := make(chan struct{})
	entered = new(atomic.Int64)
	h = HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		entered.Add(1)
		<-gate
		return f, false
	})
	return h, sync.OnceFunc(func() { close(gate) }), entered
}

// peakSampler records the highest value of Buffered seen until stopped.
func peakSampler(s *Server) (peak func() int64, stop func()) {
	var max atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if b := s.Buffered(); b > max.Load() {
				max.Store(b)
			}
			select {
			case <-done:
				return
			default:
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	return max.Load, func() { close(done); wg.Wait() }
}

// TestBufferBudgetPausesReading: with room for three requests, a slow
// handler gets three and the other frames wait unread, on every
// connection; once the handler catches up every request is answered, in
// order, and the budget is free again.
func TestBufferBudgetPausesReading(t *testing.T) {
	checkLeaks(t)
	h, release, entered := gated()
	const maxFrame = 256
	unit := requestCharge(maxFrame)
	s := start(t, h, Options{MaxFrame: maxFrame, MaxInFlight: 16, Workers: 16, BufferBudget: 3 * unit})
	t.Cleanup(release)
	peak, stopSampling := peakSampler(s)
	defer stopSampling()
	const conns, n = 5, 10
	cs := make([]net.Conn, conns)
	for i := range cs {
		cs[i] = dial(t, s)
		var all []byte
		for j := range n {
			all = append(all, mkFrame(uint64(j), j)...)
		}
		_, err := cs[i].Write(all)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return entered.Load() == 3 }, 5*time.Second, time.Millisecond)
	time.Sleep(200 * time.Millisecond) // time for the server to take more, if it would
	require.Equal(t, int64(3), entered.Load())
	require.Equal(t, 3, s.InFlight())
	require.Equal(t, 3*unit, s.Buffered())
	release()
	for _, c := range cs {
		for j := range n {
			require.Equal(t, mkFrame(uint64(j), j), readFrame(t, c))
		}
	}
	require.Eventually(t, func() bool { return s.Buffered() == 0 && s.InFlight() == 0 }, 5*time.Second, time.Millisecond)
	require.LessOrEqual(t, peak(), 3*unit)
	require.Equal(t, int64(conns*n), entered.Load())
}

// TestBufferBudgetCountsUnreadAnswers: answers a terminal does not read
// stay charged while they wait for its socket, so reading pauses for
// everyone at the budget; when the terminal reads them the charge is
// returned (the ticker refreshes it) and the others are served. Nothing
// is dropped.
func TestBufferBudgetCountsUnreadAnswers(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	answer := make([]byte, 2000)
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		if len(f) > 100 {
			return f, false // the other terminal's echo
		}
		a := append([]byte(nil), answer...)
		copy(a[2+len(testHead):], f[2+len(testHead):2+len(testHead)+8])
		a[0], a[1] = byte((len(a)-2)>>8), byte(len(a)-2)
		return a, false
	}) // answers of 2000 bytes carrying the request's sequence number
	const budget = 64 << 10
	s := start(t, h, Options{
		BufferBudget: budget, SocketSendBuffer: 4096, Hooks: rs.hooks(),
		MaxPendingWrite: 1 << 20, IdleTimeout: 200 * time.Millisecond, FrameTimeout: time.Minute,
	})
	peak, stopSampling := peakSampler(s)
	defer stopSampling()
	slow, err := posclient.DialReadBuffer(s.Addr().String(), 5*time.Second, 4096)
	require.NoError(t, err)
	defer slow.Close()
	const n = 100 // 200 kB of answers: far more than the budget and the socket buffers
	var all []byte
	for i := range n {
		all = append(all, mkFrame(uint64(i), 0)...)
	}
	_, err = slow.Conn().Write(all)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.Buffered() > budget/2 }, 5*time.Second, time.Millisecond)

	// Another terminal waits: its request is not taken while the unread
	// answers hold the budget (nor is either closed as idle meanwhile).
	other := dial(t, s)
	f := mkFrame(7, 200)
	_, err = other.Write(f)
	require.NoError(t, err)
	require.NoError(t, other.SetReadDeadline(time.Now().Add(500*time.Millisecond)))
	_, err = other.Read(make([]byte, 1))
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "answered while the budget was spent: %v", err)
	require.Equal(t, 2, s.Conns())

	// The slow terminal reads everything: the budget frees, all answers
	// come, and the other terminal is served.
	for i := range n {
		a := readFrame(t, slow.Conn())
		require.Equal(t, uint64(i), seqOf(a))
	}
	require.Equal(t, f, readFrame(t, other))
	require.Eventually(t, func() bool { return s.Buffered() == 0 }, 5*time.Second, time.Millisecond)
	require.LessOrEqual(t, peak(), int64(budget))
	require.Empty(t, rs.rejects())
}

// TestBufferBudgetManyConnections: 10,000 connections each send a full
// pipeline (MaxInFlight requests) at a handler that is stuck. The server
// takes what the budget admits and leaves the rest unread: its accounted
// bytes never pass the budget and the Go heap grows by about the budget,
// not by the 80,000 requests. When the handler catches up every request
// is answered, in order.
//
// The client runs in a child process (this test binary run again with
// budgetClientEnv set), as terminals are other machines: each side of a
// connection costs a descriptor, and one process may open 20,000 here.
func TestBufferBudgetManyConnections(t *testing.T) {
	checkLeaks(t)
	conns := 10_000
	if testing.Short() {
		conns = 1000
	}
	const maxInFlight, budget = 8, 16 << 20
	h, release, entered := gated()
	s := start(t, h, Options{MaxInFlight: maxInFlight, Workers: 64, BufferBudget: budget, IdleTimeout: time.Minute})
	t.Cleanup(release)

	client := startBudgetClient(t, s.Addr().String(), conns, maxInFlight)
	client.expect(t, "connected", 60*time.Second)
	require.Eventually(t, func() bool { return s.Conns() == conns }, 10*time.Second, time.Millisecond)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak, stopSampling := peakSampler(s)
	defer stopSampling()
	client.say(t, "send")
	client.expect(t, "sent", 60*time.Second)
	// The server fills the budget, then waits.
	unit := requestCharge(s.opt.MaxFrame)
	require.Eventually(t, func() bool { return s.Buffered() > budget-unit }, 30*time.Second, time.Millisecond)
	time.Sleep(500 * time.Millisecond) // time for the rest of the frames to arrive, and not be taken
	var during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&during)
	taken := int64(s.InFlight())
	grew := int64(during.HeapInuse) - int64(before.HeapInuse)
	t.Logf("%d connections, %d requests sent, %d taken (%d bytes accounted, budget %d); heap in use grew %d KiB",
		conns, conns*maxInFlight, taken, s.Buffered(), budget, grew>>10)
	require.Equal(t, budget/unit, taken)
	require.LessOrEqual(t, peak(), int64(budget))
	// Without the budget the 80,000 requests' buffers alone are 160 MB.
	// With it: what was taken, the frames left unread and the runtime's
	// own slack.
	require.Less(t, grew, int64(budget+16<<20), "the heap grew past the budget")

	release()
	client.expect(t, fmt.Sprintf("answered %d", conns*maxInFlight), 120*time.Second)
	require.NoError(t, client.wait(30*time.Second))
	require.Equal(t, int64(conns*maxInFlight), entered.Load())
	require.Eventually(t, func() bool { return s.Buffered() == 0 && s.InFlight() == 0 }, 10*time.Second, time.Millisecond)
	require.LessOrEqual(t, peak(), int64(budget))
}

// budgetClientEnv makes this test binary the many-connections client:
// "ADDR CONNS INFLIGHT".
const budgetClientEnv = "ECARDGW_BUDGET_CLIENT"

func TestMain(m *testing.M) {
	if spec := os.Getenv(budgetClientEnv); spec != "" {
		os.Exit(budgetClient(spec))
	}
	os.Exit(m.Run())
}

// budgetClient dials CONNS connections, says "connected", waits for
// "send" on its input, sends INFLIGHT frames on each, says "sent", reads
// every answer (in order, per connection) and says "answered N". Bounded:
// every read and write has a deadline.
func budgetClient(spec string) int {
	var addr string
	var conns, inFlight int
	if _, err := fmt.Sscan(spec, &addr, &conns, &inFlight); err != nil {
		fmt.Fprintln(os.Stderr, "budget client:", err)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "budget client:", err)
		return 1
	}
	cs := make([]net.Conn, conns)
	defer func() {
		for _, c := range cs {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	const workers = 16
	each := func(fn func(i int) error) error {
		var wg sync.WaitGroup
		var first atomic.Value
		for w := range workers {
			wg.Go(func() {
				for i := w; i < conns; i += workers {
					if err := fn(i); err != nil {
						first.CompareAndSwap(nil, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err, _ := first.Load().(error); err != nil {
			return err
		}
		return nil
	}
	if err := each(func(i int) (err error) {
		cs[i], err = net.DialTimeout("tcp", addr, 10*time.Second)
		return err
	}); err != nil {
		return fail(err)
	}
	fmt.Println("connected")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "send" {
		return fail(errors.New("no send"))
	}
	var pipeline []byte
	for j := range inFlight {
		pipeline = append(pipeline, mkFrame(uint64(j), 0)...)
	}
	deadline := time.Now().Add(2 * time.Minute)
	if err := each(func(i int) error {
		_ = cs[i].SetDeadline(deadline)
		_, err := cs[i].Write(pipeline)
		return err
	}); err != nil {
		return fail(err)
	}
	fmt.Println("sent")
	var answered atomic.Int64
	if err := each(func(i int) error {
		for j := range inFlight {
			f, err := tryReadFrame(cs[i])
			if err != nil {
				return err
			}
			if seqOf(f) != uint64(j) {
				return errors.New("answer out of order")
			}
			answered.Add(1)
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	fmt.Println("answered", answered.Load())
	return 0
}

// budgetClientProc is the client process seen from the test.
// Its standard error goes to the test's, so a failure says why.
type budgetClientProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan error
}

func startBudgetClient(t *testing.T, addr string, conns, inFlight int) *budgetClientProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", budgetClientEnv, addr, conns, inFlight))
	p := &budgetClientProc{cmd: cmd, lines: make(chan string, 8), done: make(chan error, 1)}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = p.stdin.Close()
	})
	return p
}

func (p *budgetClientProc) say(t *testing.T, line string) {
	t.Helper()
	_, err := fmt.Fprintln(p.stdin, line)
	require.NoError(t, err)
}

func (p *budgetClientProc) expect(t *testing.T, want string, limit time.Duration) {
	t.Helper()
	select {
	case got, ok := <-p.lines:
		require.True(t, ok, "the client exited before %q", want)
		require.Equal(t, want, got)
	case <-time.After(limit):
		t.Fatalf("the client did not say %q within %s", want, limit)
	}
}

func (p *budgetClientProc) wait(limit time.Duration) error {
	select {
	case err := <-p.done:
		return err
	case <-time.After(limit):
		return errors.New("the client did not exit")
	}
}

// TestBufferBudgetIdleWithUnreadAnswers: the ticker wakes connections
// whose answers wait in the outbound buffer (to re-count them); those
// wakes are not activity, so a terminal that stopped reading and sending
// is still closed as idle, and its charge is returned.
func TestBufferBudgetIdleWithUnreadAnswers(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	answer := make([]byte, 2000)
	answer[0], answer[1] = byte((len(answer)-2)>>8), byte(len(answer)-2)
	h := HandlerFunc(func(context.Context, *ConnInfo, []byte) ([]byte, bool) { return answer, false })
	s := start(t, h, Options{
		BufferBudget: 1 << 20, SocketSendBuffer: 4096, MaxPendingWrite: 1 << 20,
		IdleTimeout: 300 * time.Millisecond, Hooks: rs.hooks(),
	})
	slow, err := posclient.DialReadBuffer(s.Addr().String(), 5*time.Second, 4096)
	require.NoError(t, err)
	defer slow.Close()
	var all []byte
	for i := range 50 {
		all = append(all, mkFrame(uint64(i), 0)...)
	}
	_, err = slow.Conn().Write(all)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.Buffered() > 0 && s.InFlight() == 0 }, 5*time.Second, time.Millisecond)
	rs.waitClose(t, CloseIdle)
	require.Eventually(t, func() bool { return s.Buffered() == 0 }, 5*time.Second, time.Millisecond)
}

// TestBufferBudgetEvictsSlowReaders: while terminals wait for the budget,
// a connection with more than a quarter of MaxPendingWrite of answers
// it has not read is closed as a slow reader, so that a few terminals
// that stop reading (or an attacker's connections) cannot stall the
// others until the idle timeout; the others are then served.
func TestBufferBudgetEvictsSlowReaders(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	answer := make([]byte, 2000)
	answer[0], answer[1] = byte((len(answer)-2)>>8), byte(len(answer)-2)
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		if len(f) > 100 {
			return f, false // the other terminal's echo
		}
		return answer, false
	})
	const budget = 200 << 10
	s := start(t, h, Options{
		BufferBudget: budget, SocketSendBuffer: 4096, MaxPendingWrite: 256 << 10,
		IdleTimeout: time.Minute, Hooks: rs.hooks(),
	})
	slow, err := posclient.DialReadBuffer(s.Addr().String(), 5*time.Second, 4096)
	require.NoError(t, err)
	defer slow.Close()
	var all []byte
	for i := range 120 { // 240 kB of answers: past the budget, under MaxPendingWrite
		all = append(all, mkFrame(uint64(i), 0)...)
	}
	_, err = slow.Conn().Write(all)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.Buffered() > 64<<10 }, 5*time.Second, time.Millisecond)

	other := dial(t, s)
	f := mkFrame(7, 200)
	_, err = other.Write(f)
	require.NoError(t, err)
	rs.waitClose(t, CloseSlowReader)
	require.Equal(t, f, readFrame(t, other))
	require.Eventually(t, func() bool { return s.Buffered() == 0 }, 5*time.Second, time.Millisecond)
}
