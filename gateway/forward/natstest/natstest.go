// Package natstest runs a real `nats-server -js` (Debian package
// nats-server) on a free loopback port with its store in a temp dir, for
// tests of the JetStream sink and the shared replay record. A test fails,
// never skips, when nats-server is not installed; under `go test -short`
// (make test-short) Start skips the test instead of running a server.
package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Server is one nats-server process, stopped at the end of the test.
type Server struct {
	t      testing.TB
	port   int
	dir    string
	cmd    *exec.Cmd
	opts   Options
	scheme string
}

// Options add to the server's command line: authentication and TLS, as
// an upstream link of the gateway would find them.
type Options struct {
	// Args are more nats-server flags ("--user", "u", "--pass", "p";
	// "--auth", "token"; "--tlsverify", ...).
	Args []string
	// Conf, when set, is written to a file passed with -c (for what has
	// no flag, such as nkey users). The flags still set the port, the
	// listen address and JetStream.
	Conf string
	// TLS: the server speaks TLS only, so the client URL is tls://.
	TLS bool
}

// Start runs a JetStream server for t. Under -short it skips t: the
// quick loop runs no external servers.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith runs a JetStream server with more options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test runs a nats-server; make test runs it")
	}
	if _, err := exec.LookPath("nats-server"); err != nil {
		t.Fatalf("nats-server is required (Debian package nats-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	s := &Server{t: t, port: port, dir: t.TempDir(), opts: o, scheme: "nats"}
	if o.TLS {
		s.scheme = "tls"
	}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// URL is the client URL.
func (s *Server) URL() string { return fmt.Sprintf("%s://127.0.0.1:%d", s.scheme, s.port) }

func (s *Server) start() {
	s.t.Helper()
	args := []string{"-js", "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-sd", filepath.Join(s.dir, "js")}
	if s.opts.Conf != "" {
		conf := filepath.Join(s.dir, "server.conf")
		require.NoError(s.t, os.WriteFile(conf, []byte(s.opts.Conf), 0o600))
		args = append(args, "-c", conf)
	}
	s.cmd = exec.Command("nats-server", append(args, s.opts.Args...)...)
	require.NoError(s.t, s.cmd.Start())
	require.Eventually(s.t, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "nats-server did not start")
}

// Stop ends the server gracefully (its file store is flushed), waiting
// for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port and store.
func (s *Server) Restart() {
	s.Stop()
	s.start()
}
