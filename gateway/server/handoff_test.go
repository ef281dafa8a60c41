package server

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/stretchr/testify/require"
)

// The hand-off from event loop to worker and back to the reorder ring must
// not allocate: it runs for every request.
func TestHandOffDoesNotAllocate(t *testing.T) {
	q := newWorkQueue()
	cs := &connState{ring: make([]*request, 16), mask: 15}
	cs.wakePending = true // no gnet connection here: suppress the Wake
	r := &request{conn: cs}
	batch := []*request{r}
	allocs := testing.AllocsPerRun(1000, func() {
		r.seq = cs.written
		q.push(batch)
		got := q.pop()
		require.True(t, cs.finish(got))
		cs.takeReady()
		cs.wakePending = true
		cs.done = cs.done[:0]
	})
	require.Zero(t, allocs)
}

func TestRingReordersOutOfOrderFinishes(t *testing.T) {
	cs := &connState{ring: make([]*request, 8), mask: 7, wakePending: true}
	reqs := make([]*request, 6)
	for i := range reqs {
		reqs[i] = &request{conn: cs, seq: uint64(i)}
	}
	for _, i := range []int{3, 1, 2} {
		require.True(t, cs.finish(reqs[i]))
	}
	cs.takeReady()
	require.Empty(t, cs.done, "nothing is due before request 0")
	cs.wakePending = true
	require.True(t, cs.finish(reqs[0]))
	cs.takeReady()
	require.Equal(t, reqs[:4], cs.done)

	cs.done = cs.done[:0]
	require.True(t, cs.finish(reqs[5]))
	parked := cs.markClosed(nil)
	require.Equal(t, []*request{reqs[5]}, parked)
	require.False(t, cs.finish(reqs[4]), "a closed connection takes no more answers")
}

func TestWorkQueueGrowsAndDrainsOnClose(t *testing.T) {
	q := newWorkQueue()
	var batch []*request
	for i := range 1000 {
		batch = append(batch, &request{seq: uint64(i)})
	}
	q.push(batch[:300])
	require.Equal(t, uint64(0), q.pop().seq)
	q.push(batch[300:])
	q.close()
	for i := 1; i < 1000; i++ {
		require.Equal(t, uint64(i), q.pop().seq)
	}
	require.Nil(t, q.pop())
}

func BenchmarkHandOff(b *testing.B) {
	b.ReportAllocs()
	q := newWorkQueue()
	cs := &connState{ring: make([]*request, 16), mask: 15, wakePending: true}
	r := &request{conn: cs}
	batch := []*request{r}
	for b.Loop() {
		r.seq = cs.written
		q.push(batch)
		cs.finish(q.pop())
		cs.takeReady()
		cs.wakePending = true
		cs.done = cs.done[:0]
	}
}

// resetConn is a gnet.Conn whose writev fails the way gnet's does on a
// reset peer: gnet closes the connection, running OnClose, inside Writev.
type resetConn struct {
	gnet.Conn // only the methods below are used
	ev        *events
	ctx       any
}

func (c *resetConn) Context() any { return c.ctx }
func (c *resetConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}
}
func (c *resetConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8583} }
func (c *resetConn) OutboundBuffered() int {
	return 0
}

func (c *resetConn) Writev([][]byte) (int, error) {
	c.ev.OnClose(c, syscall.ECONNRESET)
	return 0, syscall.ECONNRESET
}

func TestFlushSurvivesCloseInsideWritev(t *testing.T) {
	for _, budget := range []int64{0, 1 << 20} {
		rs := newReasons()
		s, err := New(echo(), Options{Hooks: rs.hooks(), BufferBudget: budget})
		require.NoError(t, err)
		ev := &events{s: s}
		gc := &resetConn{ev: ev}
		cs := newConnState(1, gc, 4)
		gc.ctx = cs
		s.conns.Add(1)
		s.registry[cs] = struct{}{}

		cs.wakePending = true // no event loop here to wake
		reqs := make([]*request, 3)
		for i := range reqs {
			r := s.reqPool.Get().(*request)
			r.buf = append(r.buf[:0], mkFrame(uint64(i), 0)...)
			r.conn, r.seq, r.answer = cs, uint64(i), r.buf
			if s.budget != nil {
				require.True(t, s.budget.reserve(s.budget.unit))
				r.charge = s.budget.unit
			}
			cs.nextSeq++
			cs.inflight.Add(1)
			s.inflight.Add(1)
			reqs[i] = r
		}
		// Two answers are due and flushed together; the third is still
		// "in a worker" when the writev fails.
		require.True(t, cs.finish(reqs[0]))
		require.True(t, cs.finish(reqs[1]))
		require.Equal(t, gnet.Close, s.flush(cs, gc, time.Now().UnixNano()))
		require.Equal(t, 1, s.InFlight())
		require.Zero(t, s.Conns())
		require.False(t, cs.finish(reqs[2]), "the connection is closed")
		s.recycle(reqs[2]) // what the worker does then
		require.Zero(t, s.InFlight())
		require.Zero(t, s.Buffered(), "budget %d: charges not returned", budget)
		rs.waitClose(t, CloseIOError)
	}
}
