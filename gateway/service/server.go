package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"ecardgw/store"
)

// DefaultAddr is the service listener's default address: loopback only,
// so that exposing the API is a deliberate configuration change.
const DefaultAddr = "127.0.0.1:9200"

// Defaults of Options.
const (
	DefaultTopUpMaxFen    = 99900 // 999.00, the channels' single top-up ceiling
	DefaultMaxBodyBytes   = 64 << 10
	DefaultMaxImportBytes = 32 << 20 // tens of thousands of accounts at ~100 bytes a row
)

// Options configure the service API.
type Options struct {
	Addr string // DefaultAddr when empty; "127.0.0.1:0" picks a free port
	DB   *store.DB
	// Tokens reports whether a bearer token is valid; it must compare in
	// constant time (config.Keys.ValidToken does).
	Tokens func(string) bool
	// ReadOnly is connected mode: every write answers 403 read_only.
	ReadOnly bool
	// OnBlacklist is told each new blacklist version after it is committed
	// (the engine's BlacklistChanged), so that terminals are asked to
	// download it.
	OnBlacklist func(ver uint32)
	Logger      *slog.Logger     // slog.Default() when nil
	Now         func() time.Time // time.Now when nil
	TopUpMaxFen int64            // DefaultTopUpMaxFen when 0; also the fee ceiling
	// GatewayID (gateway.id) namespaces the keys of the API's journal
	// records: KeyTerminal(GatewayID).
	GatewayID string
	// MaxBodyBytes bounds a JSON body, MaxImportBytes an accounts file.
	MaxBodyBytes   int64
	MaxImportBytes int64
	// WeChatNotify and AlipayNotify, when set, serve the channels'
	// top-up notifications (notify.go) at /notify/wechat and /notify/alipay.
	WeChatNotify *WeChatNotify
	AlipayNotify *AlipayNotify
}

// Server is the service API listener.
type Server struct {
	opts    Options
	keyTerm string // KeyTerminal(opts.GatewayID)
	db      *store.DB
	log     *slog.Logger
	mux     *http.ServeMux

	mu   sync.Mutex
	srv  *http.Server
	ln   net.Listener
	done chan struct{} // closed when Serve has returned
}

// New prepares a server; nothing listens until Start.
func New(opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TopUpMaxFen <= 0 {
		opts.TopUpMaxFen = DefaultTopUpMaxFen
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxImportBytes <= 0 {
		opts.MaxImportBytes = DefaultMaxImportBytes
	}
	s := &Server{opts: opts, db: opts.DB, log: opts.Logger, keyTerm: KeyTerminal(opts.GatewayID)}
	s.mux = s.routes()
	return s
}

// Start listens and serves in the background. It returns once the
// listener is bound, so Addr is valid.
func (s *Server) Start() error {
	if s.db == nil {
		return ErrNoStore
	}
	if s.opts.Tokens == nil {
		return ErrNoTokens
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return ErrStarted
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		// An accounts file of MaxImportBytes over a slow office link.
		ReadTimeout:    2 * time.Minute,
		WriteTimeout:   2 * time.Minute,
		IdleTimeout:    time.Minute,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("service listener stopped", "err", err)
		}
	}(s.srv, s.done)
	s.log.Info("service API listening", "addr", ln.Addr().String(), "read_only", s.opts.ReadOnly)
	return nil
}

// Addr is the bound address after Start (the configured one before).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.opts.Addr
}

// Shutdown stops accepting, lets in-flight calls finish until ctx ends
// (a call whose store transaction has started always completes: the store
// waits for its commit), and returns once the serve loop has exited. Safe
// before Start and twice.
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
