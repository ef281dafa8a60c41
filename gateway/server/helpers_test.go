package server

import (
	"bytes"
	"context"
	"ecardgw/gateway/logging/logtest"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
)

// testHead stands in for TPDU and header: the server never looks inside.
var testHead = []byte{0x60, 0x00, 0x01, 0x00, 0x00, 0x60, 0x31, 0x00, 0x31, 0x00, 0x00}

// mkFrame builds LEN | head | 8-byte sequence number | pad.
func mkFrame(seq uint64, pad int) []byte {
	body := len(testHead) + 8 + pad
	b := make([]byte, 0, frame.LenSize+body)
	b = binary.BigEndian.AppendUint16(b, uint16(body))
	b = append(b, testHead...)
	b = binary.BigEndian.AppendUint64(b, seq)
	return append(b, make([]byte, pad)...)
}

func seqOf(f []byte) uint64 {
	return binary.BigEndian.Uint64(f[frame.LenSize+len(testHead):])
}

func readFrame(t testing.TB, c net.Conn) []byte {
	t.Helper()
	f, err := tryReadFrame(c)
	require.NoError(t, err)
	return f
}

// tryReadFrame is readFrame for goroutines other than the test's, where
// require must not be used.
func tryReadFrame(c net.Conn) ([]byte, error) {
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, err
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	f := make([]byte, 2+int(binary.BigEndian.Uint16(l[:])))
	copy(f, l[:])
	_, err := io.ReadFull(c, f[2:])
	return f, err
}

// requireClosed asserts the server closed c: a read ends in EOF or reset
// (not a timeout). Any answers still buffered are skipped.
func requireClosed(t testing.TB, c net.Conn) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "connection not closed: %v", err)
}

func echo() Handler {
	return HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) { return f, false })
}

// start runs a server on a free loopback port, shut down at cleanup.
// Register checkLeaks before calling start so that it runs after the
// shutdown.
func start(t testing.TB, h Handler, opt Options) *Server {
	t.Helper()
	opt.Addr = "127.0.0.1:0"
	s, err := New(h, opt)
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := s.Shutdown(ctx)
		if err != nil && err != ErrClosed {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func dial(t testing.TB, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip sends one frame and checks that the echo comes back.
func roundTrip(t testing.TB, c net.Conn, seq uint64) {
	t.Helper()
	f := mkFrame(seq, 0)
	_, err := c.Write(f)
	require.NoError(t, err)
	require.Equal(t, f, readFrame(t, c))
}

// checkLeaks fails the test if goroutines started during it are still
// running once its cleanups have run (it must be registered first).
func checkLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, interesting(buf))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// interesting drops the test framework's own goroutines from a dump.
func interesting(dump []byte) string {
	var out strings.Builder
	for g := range bytes.SplitSeq(dump, []byte("\n\n")) {
		if bytes.Contains(g, []byte("testing.(*T).Run")) || bytes.Contains(g, []byte("testing.tRunner")) {
			continue
		}
		out.Write(g)
		out.WriteString("\n\n")
	}
	return out.String()
}

// reasons collects hook calls.
type reasons struct {
	mu     sync.Mutex
	closed []CloseReason
	reject []CloseReason
	frame  []FrameReason
	opened int
	ch     chan CloseReason // every close reason, for waiting
}

func newReasons() *reasons { return &reasons{ch: make(chan CloseReason, 1024)} }

func (r *reasons) hooks() Hooks {
	return Hooks{
		OnOpen: func() { r.mu.Lock(); r.opened++; r.mu.Unlock() },
		OnClose: func(x CloseReason) {
			r.mu.Lock()
			r.closed = append(r.closed, x)
			r.mu.Unlock()
			select {
			case r.ch <- x:
			default:
			}
		},
		OnReject:     func(x CloseReason) { r.mu.Lock(); r.reject = append(r.reject, x); r.mu.Unlock() },
		OnFrameError: func(x FrameReason) { r.mu.Lock(); r.frame = append(r.frame, x); r.mu.Unlock() },
	}
}

func (r *reasons) waitClose(t testing.TB, want CloseReason) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-r.ch:
			if got == want {
				return
			}
			t.Logf("close reason %v while waiting for %v", got, want)
		case <-timeout:
			t.Fatalf("no close with reason %v", want)
		}
	}
}

func (r *reasons) rejects() []CloseReason {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]CloseReason(nil), r.reject...)
}

// count is how many connections closed with reason x.
func (r *reasons) count(x CloseReason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.closed {
		if c == x {
			n++
		}
	}
	return n
}

func (r *reasons) frames() []FrameReason {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]FrameReason(nil), r.frame...)
}

// syncBuffer is a bytes.Buffer safe for a logger used from many goroutines.
type syncBuffer = logtest.Buffer
