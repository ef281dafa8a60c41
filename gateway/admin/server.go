package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"ecardgw/metrics"
)

// DefaultAddr is the admin listener's default address: loopback only.
const DefaultAddr = "127.0.0.1:9100"

// Options configure the admin server; the zero value serves /metrics and
// /healthz, an always-ready /readyz and no /status.
type Options struct {
	Checks       []Check       // /readyz conditions, run in order
	Status       StatusFunc    // /status; nil: 404
	Logger       *slog.Logger  // serve errors; slog.Default() when nil
	CheckTimeout time.Duration // bound on /readyz and /status; 2 s when zero
	// Local are extra routes ("GET /journal" -> handler) served only when
	// the listener is bound to loopback, like pprof: journal exports and
	// store backups are for an operator on the box, never the network.
	// Like pprof they need an admin token.
	Local map[string]http.Handler
	// Tokens reports whether a bearer token is an admin token; it must
	// compare in constant time (config.Keys.ValidAdminToken does). nil:
	// no token is valid, and Local and pprof answer 401 to everyone.
	Tokens func(string) bool
	// AllowedHosts are host names accepted in the Host header besides the
	// listen address's own host (see hostPolicy.allowed).
	AllowedHosts []string
}

// Server is the admin HTTP listener.
type Server struct {
	addr string
	m    *metrics.Metrics
	opts Options

	mu    sync.Mutex
	srv   *http.Server
	ln    net.Listener
	pprof bool
	done  chan struct{} // closed when Serve has returned
	hosts hostPolicy    // set by Start, before serving
}

// New prepares an admin server on addr (DefaultAddr when empty; ":0" or
// "127.0.0.1:0" pick a free port). m may be nil: no /metrics then.
func New(addr string, m *metrics.Metrics, opts Options) *Server {
	if addr == "" {
		addr = DefaultAddr
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = 2 * time.Second
	}
	return &Server{addr: addr, m: m, opts: opts}
}

// Start listens and serves in the background. It returns once the
// listener is bound, so Addr is valid and a scrape cannot race it.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return ErrStarted
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.pprof = isLoopback(ln.Addr())
	s.hosts = newHostPolicy(s.addr, ln.Addr(), s.opts.AllowedHosts)
	s.srv = &http.Server{
		Handler:           s.checkHost(s.routes()),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
		// No WriteTimeout: /debug/pprof/profile streams for 30 s by default.
		ErrorLog: slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
	s.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logger.Error("admin listener stopped", "err", err)
		}
	}(s.srv, s.done)
	s.opts.Logger.Info("admin listening", "addr", ln.Addr().String(), "pprof", s.pprof)
	return nil
}

// Addr is the bound address after Start (the configured one before).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.addr
}

// PprofEnabled reports whether /debug/pprof/ is served (loopback only).
func (s *Server) PprofEnabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pprof
}

// Shutdown stops accepting, waits for in-flight requests until ctx ends,
// and returns once the serve loop has exited. Safe before Start and twice.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		_ = srv.Close() // deadline passed: cut the remaining connections
	}
	<-done
	return err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	if s.m != nil {
		mux.Handle("GET /metrics", s.m.Handler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	if s.opts.Status != nil {
		mux.HandleFunc("GET /status", s.handleStatus)
	}
	if s.pprof {
		// Registered on this mux only, never on http.DefaultServeMux, and
		// only when bound to loopback, behind the admin token: profiles,
		// traces and the command line show the gateway's internals (a
		// goroutine dump shows argument values) and cost CPU on demand.
		mux.Handle("/debug/pprof/", s.requireToken(http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/cmdline", s.requireToken(http.HandlerFunc(pprof.Cmdline)))
		mux.Handle("/debug/pprof/profile", s.requireToken(http.HandlerFunc(pprof.Profile)))
		mux.Handle("/debug/pprof/symbol", s.requireToken(http.HandlerFunc(pprof.Symbol)))
		mux.Handle("/debug/pprof/trace", s.requireToken(http.HandlerFunc(pprof.Trace)))
		for pattern, h := range s.opts.Local {
			mux.Handle(pattern, s.requireToken(h))
		}
	}
	return mux
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
