package baseline

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/panjf2000/gnet/v2"

	"ecardgw/codec/frame"
)

// Server is a running echo server.
type Server struct {
	eng    gnet.Engine
	addr   net.Addr
	booted chan struct{}
	done   chan struct{}
	err    error
}

// Start listens on addr (host:port, port 0 for a free one) and returns once
// the engine is ready.
func Start(addr string, multicore bool) (*Server, error) {
	s := &Server{booted: make(chan struct{}), done: make(chan struct{})}
	go func() {
		s.err = gnet.Run(&echo{s: s}, "tcp://"+addr,
			gnet.WithMulticore(multicore),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithLogger(quiet{}))
		close(s.done)
	}()
	select {
	case <-s.booted:
		return s, nil
	case <-s.done:
		if s.err != nil {
			return nil, fmt.Errorf("baseline: listen %s: %w", addr, s.err)
		}
		return nil, ErrStopped
	}
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.addr }

// Stop closes all connections and waits for the engine to exit.
func (s *Server) Stop() {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.done // gnet's Stop polls slowly; Run returning is sooner
		cancel()
	}()
	_ = s.eng.Stop(ctx)
	<-s.done
}

// echo is the gnet EventHandler, kept off Server's API.
type echo struct {
	gnet.BuiltinEventEngine
	s *Server
}

// OnBoot records the engine and the real listening address.
func (e *echo) OnBoot(eng gnet.Engine) gnet.Action {
	s := e.s
	addr, err := listenAddr(eng)
	if err != nil {
		return gnet.Shutdown
	}
	s.eng, s.addr = eng, addr
	close(s.booted)
	return gnet.None
}

// OnTraffic echoes every complete frame; a partial one waits in gnet's
// inbound buffer.
func (*echo) OnTraffic(c gnet.Conn) gnet.Action {
	for {
		avail := c.InboundBuffered()
		if avail < frame.LenSize {
			return gnet.None
		}
		p, err := c.Peek(min(avail, frame.LenSize+frame.DefaultMax))
		if err != nil {
			return gnet.None
		}
		n, err := frame.Next(p, frame.DefaultMax)
		if err != nil {
			return gnet.Close
		}
		if n == 0 {
			return gnet.None
		}
		// Write copies into the socket or gnet's outbound buffer, so the
		// peeked bytes may be discarded right after.
		if _, err := c.Write(p[:n]); err != nil {
			return gnet.Close
		}
		_, _ = c.Discard(n)
	}
}

// listenAddr reads the listener's address through a dup of its descriptor;
// gnet does not expose the listener itself.
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

// quiet drops gnet's logging: a benchmark baseline has nothing to say.
type quiet struct{}

func (quiet) Debugf(string, ...any) {}
func (quiet) Infof(string, ...any)  {}
func (quiet) Warnf(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(string, ...any) {}
