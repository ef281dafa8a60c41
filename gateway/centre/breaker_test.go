package centre

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/txn"
)

type fakeCentre struct {
	mu    sync.Mutex
	err   error
	calls int
}

func (f *fakeCentre) Authorize(context.Context, txn.AuthRequest) (txn.AuthResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return txn.AuthResult{RC: txn.RCApproved}, f.err
}

func TestBreakerOpensProbesAndCloses(t *testing.T) {
	var logBuf bytes.Buffer
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	fc := &fakeCentre{err: txn.ErrCentreUnreachable}
	var changes []BreakerState
	b := NewBreaker(fc, BreakerOptions{Failures: 3, OpenFor: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), Now: func() time.Time { return now },
		OnChange: func(s BreakerState) { changes = append(changes, s) }})
	ctx := context.Background()
	for range 3 {
		_, err := b.Authorize(ctx, txn.AuthRequest{})
		require.ErrorIs(t, err, txn.ErrCentreUnreachable)
	}
	require.Equal(t, BreakerOpen, b.State())
	for range 100 {
		_, err := b.Authorize(ctx, txn.AuthRequest{})
		require.ErrorIs(t, err, txn.ErrCentreUnreachable, "stand in")
		require.ErrorIs(t, err, ErrBreakerOpen)
	}
	require.Equal(t, 3, fc.calls, "an open breaker does not ask the centre")

	now = now.Add(5 * time.Second)
	_, err := b.Authorize(ctx, txn.AuthRequest{}) // the probe fails
	require.ErrorIs(t, err, txn.ErrCentreUnreachable)
	require.Equal(t, 4, fc.calls)
	require.Equal(t, BreakerOpen, b.State())

	now = now.Add(5 * time.Second)
	fc.mu.Lock()
	fc.err = nil
	fc.mu.Unlock()
	res, err := b.Authorize(ctx, txn.AuthRequest{})
	require.NoError(t, err)
	require.Equal(t, txn.RCApproved, res.RC)
	require.Equal(t, BreakerClosed, b.State())
	require.Equal(t, []BreakerState{BreakerOpen, BreakerHalfOpen, BreakerOpen, BreakerHalfOpen, BreakerClosed}, changes)
	require.Equal(t, 5, strings.Count(logBuf.String(), "circuit breaker"), "one line per change, not per request")
}

// A refusal that is an answer (the centre said no) is not a failure.
func TestBreakerCountsOnlyFailures(t *testing.T) {
	fc := &fakeCentre{err: errors.New("centre: 400 bad request")}
	b := NewBreaker(fc, BreakerOptions{Failures: 2})
	for range 5 {
		_, _ = b.Authorize(context.Background(), txn.AuthRequest{})
	}
	require.Equal(t, BreakerClosed, b.State())
	require.Equal(t, 5, fc.calls)
}

// While half-open only the probe goes to the centre.
func TestBreakerHalfOpenLetsOneProbe(t *testing.T) {
	now := time.Now()
	release := make(chan struct{})
	slow := txnCentreFunc(func(context.Context, txn.AuthRequest) (txn.AuthResult, error) {
		<-release
		return txn.AuthResult{RC: txn.RCApproved}, nil
	})
	b := NewBreaker(slow, BreakerOptions{Failures: 1, OpenFor: time.Second, Now: func() time.Time { return now }})
	b.record(false)
	require.Equal(t, BreakerOpen, b.State())
	now = now.Add(time.Second)
	done := make(chan error, 1)
	go func() { _, err := b.Authorize(context.Background(), txn.AuthRequest{}); done <- err }()
	require.Eventually(t, func() bool { return b.State() == BreakerHalfOpen }, 5*time.Second, time.Millisecond)
	_, err := b.Authorize(context.Background(), txn.AuthRequest{})
	require.ErrorIs(t, err, ErrBreakerOpen, "the others stand in while the probe is out")
	close(release)
	require.NoError(t, <-done)
	require.Equal(t, BreakerClosed, b.State())
}

type txnCentreFunc func(context.Context, txn.AuthRequest) (txn.AuthResult, error)

func (f txnCentreFunc) Authorize(ctx context.Context, r txn.AuthRequest) (txn.AuthResult, error) {
	return f(ctx, r)
}

// With a background probe no request waits for a dead centre: requests
// stand in while the probe is out, and its answer closes the breaker.
func TestBreakerBackgroundProbe(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	probeErr := error(txn.ErrCentreUnreachable)
	probes := make(chan struct{}, 10)
	fc := &fakeCentre{err: txn.ErrCentreUnreachable}
	b := NewBreaker(fc, BreakerOptions{Failures: 1, OpenFor: time.Second, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Probe: func(context.Context) error {
			probes <- struct{}{}
			mu.Lock()
			defer mu.Unlock()
			return probeErr
		}})
	_, _ = b.Authorize(context.Background(), txn.AuthRequest{})
	require.Equal(t, BreakerOpen, b.State())
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	_, err := b.Authorize(context.Background(), txn.AuthRequest{})
	require.ErrorIs(t, err, ErrBreakerOpen, "the request that starts the probe stands in too")
	<-probes
	require.Eventually(t, func() bool { return b.State() == BreakerOpen }, 5*time.Second, time.Millisecond, "failed probe: open again")
	mu.Lock()
	now = now.Add(time.Second)
	probeErr = nil
	mu.Unlock()
	_, err = b.Authorize(context.Background(), txn.AuthRequest{})
	require.ErrorIs(t, err, ErrBreakerOpen)
	<-probes
	require.Eventually(t, func() bool { return b.State() == BreakerClosed }, 5*time.Second, time.Millisecond)
	fc.mu.Lock()
	fc.err = nil
	fc.mu.Unlock()
	_, err = b.Authorize(context.Background(), txn.AuthRequest{})
	require.NoError(t, err)
	require.Equal(t, 2, fc.calls, "only the failure that opened it and the request after it closed went to the centre")
}
