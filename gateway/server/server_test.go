package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
)

func TestCoalescedFrames(t *testing.T) {
	checkLeaks(t)
	s := start(t, echo(), Options{})
	c := dial(t, s)
	var all []byte
	for i := range 50 {
		all = append(all, mkFrame(uint64(i), i)...)
	}
	_, err := c.Write(all)
	require.NoError(t, err)
	for i := range 50 {
		require.Equal(t, mkFrame(uint64(i), i), readFrame(t, c))
	}
}

func TestFrameSplitByteByByte(t *testing.T) {
	checkLeaks(t)
	s := start(t, echo(), Options{})
	c := dial(t, s)
	f := mkFrame(7, 30)
	for i := range f {
		_, err := c.Write(f[i : i+1])
		require.NoError(t, err)
	}
	require.Equal(t, f, readFrame(t, c))
	// A frame split across writes right after a complete one.
	two := append(mkFrame(8, 0), mkFrame(9, 5)...)
	_, err := c.Write(two[:25])
	require.NoError(t, err)
	_, err = c.Write(two[25:])
	require.NoError(t, err)
	require.Equal(t, uint64(8), seqOf(readFrame(t, c)))
	require.Equal(t, uint64(9), seqOf(readFrame(t, c)))
}

func TestAnswersInRequestOrder(t *testing.T) {
	checkLeaks(t)
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		return f, false
	})
	s := start(t, h, Options{Workers: 32, MaxInFlight: 32})
	const conns, n = 4, 200
	results := make(chan error, conns)
	for range conns {
		c := dial(t, s)
		go func() {
			var all []byte
			for i := range n {
				all = append(all, mkFrame(uint64(i), i%7)...)
			}
			if _, err := c.Write(all); err != nil {
				results <- err
				return
			}
			for i := range n {
				f, err := tryReadFrame(c)
				if err != nil {
					results <- err
					return
				}
				if seqOf(f) != uint64(i) {
					results <- fmt.Errorf("answer %d carries seq %d", i, seqOf(f))
					return
				}
			}
			results <- nil
		}()
	}
	for range conns {
		require.NoError(t, <-results)
	}
}

func TestNilAnswerKeepsOrder(t *testing.T) {
	checkLeaks(t)
	// Odd requests get no answer; the even answers must still come, in order.
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		if seqOf(f)%2 == 1 {
			return nil, false
		}
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
		return f, false
	})
	s := start(t, h, Options{Workers: 8})
	c := dial(t, s)
	var all []byte
	for i := range 40 {
		all = append(all, mkFrame(uint64(i), 0)...)
	}
	_, err := c.Write(all)
	require.NoError(t, err)
	for i := 0; i < 40; i += 2 {
		require.Equal(t, uint64(i), seqOf(readFrame(t, c)))
	}
}

func TestHalfFramesDoNotStallOthers(t *testing.T) {
	checkLeaks(t)
	s := start(t, echo(), Options{Workers: 4})
	const holders = 200
	half := make([]net.Conn, holders)
	for i := range half {
		half[i] = dial(t, s)
		f := mkFrame(uint64(i), 10)
		_, err := half[i].Write(f[:len(f)/2])
		require.NoError(t, err)
	}
	busy := dial(t, s)
	for i := range 100 {
		roundTrip(t, busy, uint64(i))
	}
	// The held frames are still assembled correctly when completed.
	for i, c := range half {
		f := mkFrame(uint64(i), 10)
		_, err := c.Write(f[len(f)/2:])
		require.NoError(t, err)
	}
	for i, c := range half {
		require.Equal(t, mkFrame(uint64(i), 10), readFrame(t, c))
	}
	require.Equal(t, holders+1, s.Conns())
}

func TestFrameErrorsClose(t *testing.T) {
	cases := []struct {
		name   string
		len    uint16
		reason FrameReason
	}{
		{"above max", frame.DefaultMax + 1, FrameTooLarge},
		{"max uint16", 0xFFFF, FrameTooLarge},
		{"zero", 0, FrameTooShort},
		{"below header", 5, FrameTooShort},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			rs := newReasons()
			s := start(t, echo(), Options{Hooks: rs.hooks()})
			c := dial(t, s)
			// A good frame first: its answer still arrives.
			good := mkFrame(1, 0)
			bad := binary.BigEndian.AppendUint16(nil, tc.len)
			_, err := c.Write(append(good, bad...))
			require.NoError(t, err)
			require.Equal(t, good, readFrame(t, c))
			requireClosed(t, c)
			rs.waitClose(t, CloseFrameError)
			require.Equal(t, []FrameReason{tc.reason}, rs.frames())
		})
	}
}

func TestHandlerCloseAfter(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		return f, seqOf(f) == 2
	})
	s := start(t, h, Options{Hooks: rs.hooks()})
	c := dial(t, s)
	var all []byte
	for i := range 5 {
		all = append(all, mkFrame(uint64(i), 0)...)
	}
	_, err := c.Write(all)
	require.NoError(t, err)
	for i := range 3 {
		require.Equal(t, uint64(i), seqOf(readFrame(t, c)))
	}
	requireClosed(t, c)
	rs.waitClose(t, CloseHandler)
}

func TestHandlerPanicDropsConnection(t *testing.T) {
	checkLeaks(t)
	rs := newReasons()
	h := HandlerFunc(func(_ context.Context, _ *ConnInfo, f []byte) ([]byte, bool) {
		if seqOf(f) == 1 {
			panic("boom")
		}
		return f, false
	})
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := start(t, h, Options{Hooks: rs.hooks(), Logger: log})
	c := dial(t, s)
	roundTrip(t, c, 0)
	_, err := c.Write(mkFrame(1, 0))
	require.NoError(t, err)
	requireClosed(t, c)
	rs.waitClose(t, ClosePanic)
	roundTrip(t, dial(t, s), 2) // the server itself is fine
	out := logBuf.String()
	require.Contains(t, out, "handler panic")
	require.Contains(t, out, "reason="+ClosePanic.String())
	require.NotContains(t, out, "boom", "a panic value may quote request data")
}

func TestConnInfo(t *testing.T) {
	checkLeaks(t)
	var (
		mu   sync.Mutex
		seen = map[uint64]*ConnInfo{}
	)
	h := HandlerFunc(func(_ context.Context, ci *ConnInfo, f []byte) ([]byte, bool) {
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := seen[ci.ID]; ok && prev != ci {
			return nil, true // a second ConnInfo for one connection: no answer
		}
		seen[ci.ID] = ci
		return f, false
	})
	s := start(t, h, Options{})
	a, b := dial(t, s), dial(t, s)
	roundTrip(t, a, 1)
	roundTrip(t, b, 1)
	roundTrip(t, a, 2)
	roundTrip(t, b, 2)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 2)
	var remotes []string
	for _, ci := range seen {
		remotes = append(remotes, ci.Remote.String())
	}
	require.ElementsMatch(t, []string{a.LocalAddr().String(), b.LocalAddr().String()}, remotes)
}

func TestSeveralEventLoops(t *testing.T) {
	checkLeaks(t)
	s := start(t, echo(), Options{NumEventLoop: 3, Workers: 4})
	for i := range 12 {
		c := dial(t, s)
		var all []byte
		for j := range 10 {
			all = append(all, mkFrame(uint64(j), i)...)
		}
		_, err := c.Write(all)
		require.NoError(t, err)
		for j := range 10 {
			require.Equal(t, uint64(j), seqOf(readFrame(t, c)))
		}
	}
	require.Equal(t, 12, s.Conns())
}
