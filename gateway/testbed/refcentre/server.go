package refcentre

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
)

// Server serves a Centre's handler on one listener.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr ("127.0.0.1:0" picks a free port). With tc set it
// serves HTTPS; tc.ClientAuth decides whether client certificates are
// required.
func (c *Centre) Listen(addr string, tc *tls.Config) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	return &Server{ln: ln, srv: &http.Server{
		Handler:           c.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}}, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Shutdown; it then returns nil.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for requests in flight (bounded by
// ctx).
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Serve is the whole life of a centre on addr: serve until ctx ends, then
// drain for at most 5 s.
func (c *Centre) Serve(ctx context.Context, addr string, tc *tls.Config) error {
	s, err := c.Listen(addr, tc)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		return err
	}
	return <-done
}
