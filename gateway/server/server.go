package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Server is the gateway's TCP server. Create it with New, then Start and
// finally Shutdown.
type Server struct {
	h     Handler
	later LaterHandler // h, when it can answer later
	opt   Options
	log   *slog.Logger

	ctx    context.Context // passed to Handle; cancelled when Shutdown gives up
	cancel context.CancelFunc

	queue   *workQueue
	workers sync.WaitGroup
	reqPool sync.Pool

	started  atomic.Bool
	shutdown atomic.Bool
	draining atomic.Bool // lame duck: refuse new conns, read no new frames
	stopping atomic.Bool // the engine is closing connections

	booted chan struct{} // closed by OnBoot
	done   chan struct{} // closed when gnet.Run returns
	runErr error         // gnet.Run's result, read after done
	eng    gnet.Engine   // set in OnBoot, read after booted
	addr   net.Addr      // set in OnBoot, read after booted

	nextID   atomic.Uint64
	conns    atomic.Int64
	inflight atomic.Int64 // requests dispatched and not yet written or dropped

	budget       *budget      // nil without Options.BufferBudget
	budgetWarned atomic.Int64 // unix nanoseconds of the last "budget reached" warning

	regMu    sync.Mutex
	registry map[*connState]struct{} // for the idle and slow-frame sweeps
	perAddr  map[netip.Addr]int      // open connections by source address, where a per-address cap applies
	sweep    []sweepItem             // ticker scratch
	refresh  []*connState            // ticker scratch: connections to wake so their unsent answers are re-counted
}

// sweepItem is a connection the ticker closes, and why.
type sweepItem struct {
	cs     *connState
	reason CloseReason
}

// New validates the options and prepares a server; it does not listen.
func New(h Handler, opt Options) (*Server, error) {
	if h == nil {
		return nil, ErrNilHandler
	}
	o, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		h:        h,
		opt:      o,
		log:      o.Logger,
		queue:    newWorkQueue(),
		booted:   make(chan struct{}),
		done:     make(chan struct{}),
		registry: make(map[*connState]struct{}),
		perAddr:  make(map[netip.Addr]int),
	}
	if o.BufferBudget > 0 {
		s.budget = newBudget(o.BufferBudget, requestCharge(o.MaxFrame))
	}
	bufCap := o.MaxFrame + 2
	s.reqPool.New = func() any { return &request{buf: make([]byte, 0, bufCap)} }
	s.later, _ = h.(LaterHandler)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Start listens and returns once the engine accepts connections (or
// failed to listen). Addr then reports the bound address.
func (s *Server) Start() error {
	if s.shutdown.Load() {
		return ErrClosed
	}
	if !s.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	for range s.opt.Workers {
		s.workers.Add(1)
		go s.worker()
	}
	proto := s.opt.Addr
	if !strings.Contains(proto, "://") {
		proto = "tcp://" + proto
	}
	opts := []gnet.Option{
		gnet.WithMulticore(s.opt.Multicore),
		gnet.WithNumEventLoop(s.opt.NumEventLoop),
		gnet.WithTicker(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{s.log}),
		// SO_REUSEADDR: a gateway started right after a crash or a quick
		// restart binds its port although the dead process's connections
		// still sit in FIN_WAIT2 or TIME_WAIT there (terminals keep them
		// half-open). It never lets two listeners share the port; that
		// would take SO_REUSEPORT, which stays off, so a second gateway on
		// the same address fails to bind.
		gnet.WithReuseAddr(true),
	}
	if s.opt.SocketSendBuffer > 0 {
		opts = append(opts, gnet.WithSocketSendBuffer(s.opt.SocketSendBuffer))
	}
	go func() {
		s.runErr = gnet.Run(&events{s: s}, proto, opts...)
		close(s.done)
	}()
	select {
	case <-s.booted:
		s.log.Info("server listening", "addr", s.addr.String(), "workers", s.opt.Workers)
		return nil
	case <-s.done:
		s.stopWorkers()
		if s.runErr == nil {
			return fmt.Errorf("server: engine stopped before it was ready")
		}
		return fmt.Errorf("server: listen %s: %w", s.opt.Addr, s.runErr)
	}
}

// Addr is the bound listening address (the real port when Options.Addr
// asked for port 0), or nil before Start succeeds.
func (s *Server) Addr() net.Addr {
	select {
	case <-s.booted:
		return s.addr
	default:
		return nil
	}
}

// Conns is the number of admitted, open connections.
func (s *Server) Conns() int { return int(s.conns.Load()) }

// InFlight is the number of requests read and not yet answered.
func (s *Server) InFlight() int { return int(s.inflight.Load()) }

// Buffered is the number of bytes charged to Options.BufferBudget now
// (0 without a budget): requests taken off connections and not yet
// answered, and answers the sockets have not yet taken.
func (s *Server) Buffered() int64 {
	if s.budget == nil {
		return 0
	}
	return s.budget.used.Load()
}

// Shutdown is the lame-duck stop: refuse new connections, stop reading new
// requests, wait (bounded by ctx) until every request in flight has been
// handled and its answer handed to the socket, then close all connections
// and the engine and stop the workers. If ctx ends first, Handle's context
// is cancelled, the remaining answers are dropped and ctx's error is
// returned. It runs once; later calls return ErrClosed.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.shutdown.CompareAndSwap(false, true) {
		return ErrClosed
	}
	if !s.started.Load() {
		s.cancel()
		return nil
	}
	select {
	case <-s.booted:
	case <-s.done:
		s.cancel()
		return nil
	}
	s.draining.Store(true)
	drainErr := s.waitDrained(ctx)
	s.cancel()
	s.stopping.Store(true)
	// The engine stop is not bounded by ctx: it only closes sockets and
	// must complete, or the event-loop goroutines would leak. gnet's Stop
	// polls every 500 ms; gnet.Run returning is the earlier signal.
	stopCtx, stopped := context.WithCancel(context.Background())
	go func() {
		<-s.done
		stopped()
	}()
	stopErr := s.eng.Stop(stopCtx)
	<-s.done
	if errors.Is(stopErr, context.Canceled) {
		stopErr = nil
	}
	s.stopWorkers()
	s.log.Info("server stopped", "addr", s.addr.String())
	return errors.Join(drainErr, stopErr)
}

// waitDrained polls the in-flight count; a poll is simpler than a signal
// on every decrement and Shutdown is not a hot path.
func (s *Server) waitDrained(ctx context.Context) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("server: shutdown with %d requests in flight: %w", s.inflight.Load(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

func (s *Server) stopWorkers() {
	s.queue.close()
	s.workers.Wait()
}

// listenAddr asks the kernel for the listener's address through a dup of
// its descriptor: gnet does not expose the listener, and with port 0 only
// the kernel knows the port.
func listenAddr(eng gnet.Engine) (net.Addr, error) {
	fd, err := eng.Dup()
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "gnet-listener")
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	return ln.Addr(), nil
}
