package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/testbed/baseline"
)

var head = []byte{0x60, 0, 1, 0, 0, 0x60, 0x31, 0, 0x31, 0, 0}

// echoFrame builds LEN | head | conn(4) | seq(8).
func echoFrame(conn int, seq uint64, dst []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(head)+12))
	dst = append(dst, head...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(conn))
	return binary.BigEndian.AppendUint64(dst, seq)
}

// inOrder returns a Check that verifies each connection's answers come
// back numbered 0, 1, 2, ...
func inOrder(conns int) func(int, []byte) error {
	next := make([]uint64, conns)
	return func(conn int, a []byte) error {
		if int(binary.BigEndian.Uint32(a[13:])) != conn {
			return errors.New("answer for another connection")
		}
		if binary.BigEndian.Uint64(a[17:]) != next[conn] {
			return errors.New("answer out of order")
		}
		next[conn]++
		return nil
	}
}

func echoServer(t *testing.T) string {
	t.Helper()
	s, err := baseline.Start("127.0.0.1:0", false)
	require.NoError(t, err)
	t.Cleanup(s.Stop)
	return s.Addr().String()
}

func TestRunRequests(t *testing.T) {
	addr := echoServer(t)
	for _, pipe := range []int{1, 8} {
		res, err := Run(context.Background(), Config{
			Addr: addr, Conns: 4, Requests: 2000, Pipeline: pipe,
			Next: echoFrame, Check: inOrder(4),
		})
		require.NoError(t, err)
		require.Equal(t, int64(2000), res.Count, "pipeline %d", pipe)
		require.Zero(t, res.Errors, "first: %v", res.FirstError)
		require.Equal(t, 4, res.Conns)
		require.Equal(t, uint64(2000), res.Hist.Count())
		require.Positive(t, res.Throughput)
		require.LessOrEqual(t, res.Min, res.P50)
		require.LessOrEqual(t, res.P50, res.P99)
		require.LessOrEqual(t, res.P999, res.Max)
	}
}

func TestRunDuration(t *testing.T) {
	addr := echoServer(t)
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 2, Duration: 100 * time.Millisecond, Next: echoFrame,
	})
	require.NoError(t, err)
	require.Positive(t, res.Count)
	require.GreaterOrEqual(t, res.Duration, 100*time.Millisecond)
}

func TestRunCountsCheckErrors(t *testing.T) {
	addr := echoServer(t)
	var n atomic.Int64
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 2, Requests: 100, Next: echoFrame,
		Check: func(int, []byte) error {
			if n.Add(1)%10 == 0 {
				return errors.New("declined")
			}
			return nil
		},
	})
	require.NoError(t, err)
	require.Equal(t, int64(10), res.Errors)
	require.Equal(t, int64(90), res.Count)
	require.EqualError(t, res.FirstError, "declined")
}

func TestRunSetup(t *testing.T) {
	addr := echoServer(t)
	var setups atomic.Int64
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 3, Requests: 30, Next: echoFrame,
		Setup: func(conn int, c net.Conn) error {
			setups.Add(1)
			if conn == 2 {
				return errors.New("sign-in refused")
			}
			return nil
		},
	})
	require.NoError(t, err)
	require.Equal(t, int64(3), setups.Load())
	require.Equal(t, 2, res.Conns)
	require.Equal(t, 1, res.ConnErrors)
	require.Equal(t, int64(30), res.Count)
}

func TestRunServerGone(t *testing.T) {
	// A server that closes every connection: errors, not a hang.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	res, err := Run(context.Background(), Config{
		Addr: ln.Addr().String(), Conns: 2, Requests: 10, Next: echoFrame, IOTimeout: 5 * time.Second,
	})
	require.NoError(t, err)
	require.Equal(t, int64(2), res.Errors)
	require.Zero(t, res.Count)
}

func TestRunCancel(t *testing.T) {
	// A server that never answers; cancelling ctx ends the run.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		cancel()
		_, _ = io.Copy(io.Discard, c) // swallow requests until the client leaves
	}()
	_, err = Run(ctx, Config{Addr: ln.Addr().String(), Conns: 1, Duration: time.Minute, Next: echoFrame})
	require.ErrorIs(t, err, context.Canceled)
}

func TestConfigRefused(t *testing.T) {
	ok := Config{Addr: "127.0.0.1:1", Conns: 1, Requests: 1, Next: echoFrame}
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want error
	}{
		"remote ip":    {func(c *Config) { c.Addr = "10.1.2.3:8583" }, ErrNotLoopback},
		"hostname":     {func(c *Config) { c.Addr = "example.com:8583" }, ErrNotLoopback},
		"unspecified":  {func(c *Config) { c.Addr = "0.0.0.0:8583" }, ErrNotLoopback},
		"no port":      {func(c *Config) { c.Addr = "127.0.0.1" }, ErrConfig},
		"no next":      {func(c *Config) { c.Next = nil }, ErrConfig},
		"no bound":     {func(c *Config) { c.Requests = 0 }, ErrConfig},
		"too long":     {func(c *Config) { c.Duration = time.Hour }, ErrConfig},
		"too many":     {func(c *Config) { c.Conns = MaxConns + 1 }, ErrConfig},
		"zero conns":   {func(c *Config) { c.Conns = 0 }, ErrConfig},
		"deep pipe":    {func(c *Config) { c.Pipeline = MaxPipeline + 1 }, ErrConfig},
		"negative req": {func(c *Config) { c.Requests = -1 }, ErrConfig},
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			_, err := Run(context.Background(), c)
			require.ErrorIs(t, err, tc.want)
		})
	}
	for _, a := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1", "127.9.9.9:1"} {
		require.NoError(t, checkLoopback(a), a)
	}
}

func TestRunEmptyRequestStopsConnection(t *testing.T) {
	addr := echoServer(t)
	res, err := Run(context.Background(), Config{
		Addr: addr, Conns: 2, Requests: 100, IOTimeout: 5 * time.Second,
		Next: func(conn int, seq uint64, dst []byte) []byte {
			if conn == 1 && seq == 3 {
				return dst // the caller's builder failed
			}
			return echoFrame(conn, seq, dst)
		},
	})
	require.NoError(t, err)
	require.Equal(t, int64(1), res.Errors)
	require.ErrorIs(t, res.FirstError, ErrEmptyRequest)
	// The failed attempt used up one request of the budget.
	require.Equal(t, int64(99), res.Count)
}

func TestReadFrameReusesBuffer(t *testing.T) {
	// AllocsPerRun calls the function twice (a warm-up, then the run).
	var stream []byte
	for i := range 200 {
		stream = echoFrame(i, uint64(i), stream)
	}
	big := make([]byte, 2+3000)
	binary.BigEndian.PutUint16(big, 3000)
	stream = append(stream, big...)
	br := bufio.NewReaderSize(bytes.NewReader(stream), 4096)
	buf := make([]byte, 0, 512)
	next := uint64(0)
	allocs := testing.AllocsPerRun(1, func() {
		for range 100 {
			var err error
			buf, err = readFrame(br, buf, 0xFFFF)
			if err != nil || binary.BigEndian.Uint64(buf[17:]) != next {
				panic("bad frame")
			}
			next++
		}
	})
	require.Zero(t, allocs)
	buf, err := readFrame(br, buf, 0xFFFF)
	require.NoError(t, err)
	require.Equal(t, big, buf, "a frame above the buffer's capacity grows it")
	_, err = readFrame(bufio.NewReader(bytes.NewReader([]byte{0x10, 0x00})), buf, 2048)
	require.ErrorIs(t, err, ErrFrame)
}

// A paced Next waits before it returns the request; that wait is not the
// server's latency. With Scheduled, latency runs from the due time, so a
// request due long ago shows its lateness.
func TestRunLatencyFromSendOrSchedule(t *testing.T) {
	addr := echoServer(t)
	const wait = 40 * time.Millisecond
	paced := func(conn int, seq uint64, dst []byte) []byte {
		time.Sleep(wait)
		return echoFrame(conn, seq, dst)
	}
	res, err := Run(context.Background(), Config{Addr: addr, Conns: 2, Requests: 10, Next: paced, Check: inOrder(2)})
	require.NoError(t, err)
	require.Less(t, res.P50, wait/2, "the pacing wait was counted as latency")

	due := time.Now().Add(-time.Second)
	res, err = Run(context.Background(), Config{Addr: addr, Conns: 2, Requests: 10, Next: echoFrame, Check: inOrder(2),
		Scheduled: func(int, uint64) time.Time { return due }})
	require.NoError(t, err)
	require.GreaterOrEqual(t, res.Min, time.Second, "latency not measured from the scheduled time")
}
