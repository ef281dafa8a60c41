package refcentre

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
)

// TestServeLeavesNoGoroutines: after Serve returns, nothing it started
// is left running.
func TestServeLeavesNoGoroutines(t *testing.T) {
	c, err := Open(t.TempDir())
	require.NoError(t, err)
	defer c.Close()
	_, _, err = c.Import(rowsN(1, 100))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, addr, nil) }()
	cl, err := centre.New(centre.Options{URL: "http://" + addr})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := cl.Authorize(context.Background(), centre.AuthRequest{Key: key(1), Kind: centre.KindInquiry, Account: 1})
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	cl.Close()
	cancel()
	require.NoError(t, <-done)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before Serve, %d after:\n%s", base, n, buf[:runtime.Stack(buf, true)])
	}
}
