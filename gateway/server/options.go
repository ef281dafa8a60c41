package server

import (
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	"ecardgw/codec/frame"
)

// Defaults applied by New to zero fields of Options.
const (
	DefaultAddr        = "127.0.0.1:8583"
	DefaultIdleTimeout = 5 * time.Minute
	DefaultWorkers     = 256
	DefaultMaxInFlight = 16
	// DefaultMaxPendingWrite allows a terminal to fall about a hundred
	// maximum-size answers behind before it counts as a slow reader.
	DefaultMaxPendingWrite = 256 << 10
	// DefaultMaxPendingRead bounds what gnet buffers for a connection that
	// is paused by back-pressure (gnet keeps draining the socket, so the
	// pause alone does not bound memory).
	DefaultMaxPendingRead = 64 << 10
	// DefaultFrameTimeout is how long a frame may take from its first byte
	// to its last: a terminal sends a frame in one go, in well under a
	// second even on a poor mobile link.
	DefaultFrameTimeout = 5 * time.Second
)

// EventLoops is the number of event loops the server runs with these
// options, by gnet's rule: NumEventLoop when set, else one per CPU with
// Multicore, else one. Each waits for the network in a blocking
// epoll_wait system call on a goroutine of its own.
func (o Options) EventLoops() int {
	switch {
	case o.NumEventLoop > 0:
		return o.NumEventLoop
	case o.Multicore:
		return runtime.NumCPU()
	}
	return 1
}

// Options configures a Server. Zero values take the defaults above.
type Options struct {
	Addr         string // host:port to listen on (tcp); port 0 picks a free port, see Server.Addr
	Multicore    bool   // one event loop per core
	NumEventLoop int    // explicit number of event loops (overrides Multicore)

	MaxFrame    int           // largest LEN accepted (bytes after LEN), default frame.DefaultMax
	IdleTimeout time.Duration // close connections with nothing received and nothing in flight for this long
	MaxConns    int           // connection cap; 0 means no cap. Over it a new connection is closed at once (Hooks.OnReject)
	Workers     int           // size of the worker pool running the Handler

	// FrameTimeout bounds the time from a frame's first byte to its last:
	// a connection holding an incomplete frame for longer is closed
	// (CloseSlowFrame). The idle timeout cannot do this, since every
	// byte trickled in resets it. Bytes the server holds back itself
	// (a paused connection) are not timed. Default DefaultFrameTimeout.
	FrameTimeout time.Duration
	// MaxConnsPerAddr caps the open connections from one source IP
	// address; over it a new connection is closed at once
	// (CloseAddrLimit, Hooks.OnReject). 0: no per-address cap.
	MaxConnsPerAddr int
	// TrustedAddrs are source ranges (the terminals' subnets, a NAT all
	// terminals sit behind) to which MaxConnsPerTrustedAddr applies
	// instead of MaxConnsPerAddr.
	TrustedAddrs []netip.Prefix
	// MaxConnsPerTrustedAddr caps the connections from one address in
	// TrustedAddrs; 0: no per-address cap for them (MaxConns still
	// applies).
	MaxConnsPerTrustedAddr int
	// BufferBudget bounds, across all connections, the bytes held for
	// requests taken off connections and not yet answered and for answers
	// not yet taken by the sockets. At the budget the server stops taking
	// new frames off connections (they wait, unread, in order) until
	// answers drain. While connections wait, one holding more than a
	// quarter of MaxPendingWrite in answers it has not read is closed
	// (CloseSlowReader). 0: no global budget (each connection is still
	// bounded by MaxInFlight, MaxPendingRead and MaxPendingWrite).
	BufferBudget int64

	// MaxInFlight is the per-connection limit of requests dispatched but
	// not yet answered; at the limit the connection is not read further
	// until answers drain.
	MaxInFlight int
	// MaxPendingRead bounds the bytes buffered for a connection paused by
	// MaxInFlight or BufferBudget; beyond it the connection is closed
	// (CloseReadOverflow). Default: DefaultMaxPendingRead, or a full
	// pipeline (MaxInFlight maximum-size frames) if that is more, so that
	// a connection paused by the budget alone is never closed for it.
	MaxPendingRead int
	// MaxPendingWrite bounds answer bytes queued but not yet taken by the
	// socket; beyond it the connection is closed (CloseSlowReader).
	MaxPendingWrite int
	// SocketSendBuffer sets SO_SNDBUF on accepted sockets; 0 keeps the OS
	// default. Mostly for tests that need the kernel to stop absorbing.
	SocketSendBuffer int

	Hooks  Hooks
	Logger *slog.Logger
}

// Hooks are optional callbacks for metrics. They run on event loops or the
// ticker and must be cheap and non-blocking. Their reasons are closed
// enums (CloseReason, FrameReason), so each maps to a bounded set of
// metric labels.
type Hooks struct {
	OnOpen       func()                   // a connection was accepted and admitted
	OnClose      func(reason CloseReason) // an admitted connection closed
	OnReject     func(reason CloseReason) // a connection was closed at accept (CloseOverCapacity, CloseAddrLimit, CloseShutdown)
	OnFrameError func(reason FrameReason) // a frame-level error; the connection closes (CloseFrameError)
}

func (o *Options) withDefaults() (Options, error) {
	v := *o
	if v.Addr == "" {
		v.Addr = DefaultAddr
	}
	if v.MaxFrame == 0 {
		v.MaxFrame = frame.DefaultMax
	}
	if v.IdleTimeout == 0 {
		v.IdleTimeout = DefaultIdleTimeout
	}
	if v.Workers == 0 {
		v.Workers = DefaultWorkers
	}
	if v.MaxInFlight == 0 {
		v.MaxInFlight = DefaultMaxInFlight
	}
	if v.MaxPendingRead == 0 {
		v.MaxPendingRead = max(DefaultMaxPendingRead, v.MaxInFlight*(frame.LenSize+v.MaxFrame))
	}
	if v.FrameTimeout == 0 {
		v.FrameTimeout = DefaultFrameTimeout
	}
	if v.MaxPendingWrite == 0 {
		v.MaxPendingWrite = DefaultMaxPendingWrite
	}
	if v.Logger == nil {
		v.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case v.MaxFrame < 0 || v.MaxFrame > 0xFFFF:
		return v, fmt.Errorf("%w: MaxFrame %d out of 1..65535", ErrOptions, v.MaxFrame)
	case v.IdleTimeout < 0:
		return v, fmt.Errorf("%w: negative IdleTimeout", ErrOptions)
	case v.FrameTimeout < 0:
		return v, fmt.Errorf("%w: negative FrameTimeout", ErrOptions)
	case v.Workers < 0, v.MaxInFlight < 0, v.MaxConns < 0, v.NumEventLoop < 0,
		v.MaxConnsPerAddr < 0, v.MaxConnsPerTrustedAddr < 0:
		return v, fmt.Errorf("%w: negative count", ErrOptions)
	case v.MaxPendingRead < 0, v.MaxPendingWrite < 0, v.SocketSendBuffer < 0, v.BufferBudget < 0:
		return v, fmt.Errorf("%w: negative byte limit", ErrOptions)
	case !validPrefixes(v.TrustedAddrs):
		return v, fmt.Errorf("%w: an invalid prefix in TrustedAddrs", ErrOptions)
	case v.BufferBudget > 0 && v.BufferBudget < requestCharge(v.MaxFrame):
		return v, fmt.Errorf("%w: BufferBudget below one request (%d bytes)", ErrOptions, requestCharge(v.MaxFrame))
	case v.MaxPendingRead < v.MaxFrame+frame.LenSize:
		// A paused connection must at least be able to hold one whole
		// frame, or a single large request would look like an overflow.
		return v, fmt.Errorf("%w: MaxPendingRead below one frame", ErrOptions)
	}
	return v, nil
}

func validPrefixes(ps []netip.Prefix) bool {
	for _, p := range ps {
		if !p.IsValid() {
			return false
		}
	}
	return true
}
