package server

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// events is the gnet EventHandler. Every method runs on an event loop
// (OnTick on gnet's ticker goroutine) and never blocks.
type events struct {
	gnet.BuiltinEventEngine
	s *Server
}

var _ gnet.EventHandler = (*events)(nil)

func (e *events) OnBoot(eng gnet.Engine) gnet.Action {
	s := e.s
	addr, err := listenAddr(eng)
	if err != nil {
		// Without the address Start cannot report where it listens.
		s.log.Error("server: listener address", "err", err)
		return gnet.Shutdown
	}
	s.eng, s.addr = eng, addr
	close(s.booted)
	return gnet.None
}

func (e *events) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s := e.s
	if s.draining.Load() {
		s.reject(CloseShutdown)
		return nil, gnet.Close
	}
	if n := s.conns.Add(1); s.opt.MaxConns > 0 && n > int64(s.opt.MaxConns) {
		s.conns.Add(-1)
		s.reject(CloseOverCapacity)
		return nil, gnet.Close
	}
	ip, limit := s.addrLimit(gc.RemoteAddr())
	if limit > 0 {
		s.regMu.Lock()
		n := s.perAddr[ip]
		if n >= limit {
			s.regMu.Unlock()
			s.conns.Add(-1)
			s.reject(CloseAddrLimit)
			s.log.Debug("connection refused", "remote", ip.String(), "reason", CloseAddrLimit.String(), "limit", limit)
			return nil, gnet.Close
		}
		s.perAddr[ip] = n + 1
		s.regMu.Unlock()
	}
	cs := newConnState(s.nextID.Add(1), gc, s.opt.MaxInFlight)
	cs.addr, cs.addrCounted = ip, limit > 0
	cs.lastActive.Store(time.Now().UnixNano())
	gc.SetContext(cs)
	s.regMu.Lock()
	s.registry[cs] = struct{}{}
	s.regMu.Unlock()
	if f := s.opt.Hooks.OnOpen; f != nil {
		f()
	}
	return nil, gnet.None
}

// addrLimit returns a connection's source address and the per-address
// cap that applies to it (0: none): MaxConnsPerTrustedAddr within
// TrustedAddrs, MaxConnsPerAddr elsewhere. An IPv4 address arriving as
// IPv4-mapped IPv6 counts as the IPv4 address.
func (s *Server) addrLimit(remote net.Addr) (netip.Addr, int) {
	ta, ok := remote.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, 0
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Addr{}, 0
	}
	ip = ip.Unmap()
	for _, p := range s.opt.TrustedAddrs {
		if p.Contains(ip) {
			return ip, s.opt.MaxConnsPerTrustedAddr
		}
	}
	return ip, s.opt.MaxConnsPerAddr
}

func (s *Server) reject(reason CloseReason) {
	if f := s.opt.Hooks.OnReject; f != nil {
		f(reason)
	}
}

func (e *events) OnClose(gc gnet.Conn, err error) gnet.Action {
	s := e.s
	cs, _ := gc.Context().(*connState)
	if cs == nil {
		return gnet.None // refused in OnOpen, already counted by OnReject
	}
	s.conns.Add(-1)
	s.regMu.Lock()
	delete(s.registry, cs)
	if cs.addrCounted {
		if n := s.perAddr[cs.addr] - 1; n > 0 {
			s.perAddr[cs.addr] = n
		} else {
			delete(s.perAddr, cs.addr)
		}
	}
	s.regMu.Unlock()

	// Answers parked but not written die with the connection; requests
	// still in a worker are recycled by the worker (finish sees closed).
	// OnClose can run inside flush (gnet closes on a failed writev), so it
	// must not touch flush's scratch slices.
	var freed int64
	for _, r := range cs.markClosed(nil) {
		freed += r.charge
		r.charge = 0
		s.recycle(r)
	}
	if b := s.budget; b != nil {
		b.leave(cs)
		// Also when nothing is freed: a wake meant for this connection
		// is passed on if there is room.
		b.release(freed + cs.outAcct.Swap(0))
	}

	reason := cs.closeReason()
	switch {
	case reason != 0:
	case s.stopping.Load():
		reason = CloseShutdown
	case err == nil || errors.Is(err, io.EOF):
		reason = ClosePeer
	default:
		reason = CloseIOError
	}
	if f := s.opt.Hooks.OnClose; f != nil {
		f(reason)
	}
	s.log.Debug("connection closed", "conn", cs.info.ID, "remote", addrString(cs.info.Remote), "reason", reason.String())
	return gnet.None
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// OnTraffic runs when bytes arrived or a worker woke the connection
// because an answer is due. It first writes due answers (which may lift a
// back-pressure pause), then reads as many complete frames as it may.
func (e *events) OnTraffic(gc gnet.Conn) gnet.Action {
	s := e.s
	cs, _ := gc.Context().(*connState)
	if cs == nil {
		return gnet.Close
	}
	now := time.Now().UnixNano()
	if gc.InboundBuffered() > cs.heldIn {
		// Bytes came in (this is not a wake): the connection is active.
		cs.lastActive.Store(now)
	}
	if act := s.flush(cs, gc, now); act != gnet.None {
		return act
	}
	if s.budget != nil {
		s.syncOutbound(cs, gc)
	}
	if cs.closing {
		// After a frame error the stream cannot be resynchronised: drop
		// whatever else arrives and close once the earlier requests are
		// answered.
		_, _ = gc.Discard(-1)
		cs.heldIn = 0
		cs.awaitNone()
		if cs.inflight.Load() == 0 {
			return gnet.Close
		}
		return gnet.None
	}
	if s.draining.Load() {
		// Lame duck: frames not yet read are never answered (the terminal
		// reverses or retries them later), so they are dropped rather
		// than buffered while the drain lasts.
		_, _ = gc.Discard(-1)
		cs.heldIn = 0
		cs.awaitNone()
		return gnet.None
	}
	return s.read(cs, gc, now)
}

// OnTick sweeps idle connections and slow frames. A connection is idle
// when nothing came in and no answer went out for IdleTimeout, and it has
// no request in flight (a slow Handler must not get its terminal
// disconnected) nor a frame waiting for the budget. A frame is slow when
// it is still incomplete FrameTimeout after the server began to wait for
// it. With a budget, connections whose answers wait in gnet's outbound
// buffer are woken, so that what the sockets have taken since is
// returned to the budget; while connections wait for the budget, those
// holding more than evictShare of unread answers are closed as slow
// readers.
func (e *events) OnTick() (time.Duration, gnet.Action) {
	s := e.s
	idle, frameTimeout := s.opt.IdleTimeout, s.opt.FrameTimeout
	now := time.Now()
	idleCut := now.Add(-idle).UnixNano()
	frameCut := now.Add(-frameTimeout).UnixNano()
	b := s.budget
	full := b != nil && b.waiting.Load() > 0
	evict := int64(s.opt.MaxPendingWrite / evictShare)
	s.regMu.Lock()
	for cs := range s.registry {
		if fs := cs.frameStart.Load(); fs != 0 && fs < frameCut {
			s.sweep = append(s.sweep, sweepItem{cs, CloseSlowFrame})
		} else if cs.inflight.Load() == 0 && !cs.budgetWait.Load() && cs.lastActive.Load() < idleCut {
			s.sweep = append(s.sweep, sweepItem{cs, CloseIdle})
		} else if out := cs.outAcct.Load(); full && out > evict {
			s.sweep = append(s.sweep, sweepItem{cs, CloseSlowReader})
		} else if out > 0 {
			s.refresh = append(s.refresh, cs)
		}
	}
	s.regMu.Unlock()
	for i, cs := range s.refresh {
		_ = cs.gc.Wake(nil)
		s.refresh[i] = nil
	}
	s.refresh = s.refresh[:0]
	if b != nil && b.waiting.Load() > 0 && b.room() {
		b.wake() // a safety net: every release already does this
	}
	for i, it := range s.sweep {
		if it.cs.setReason(it.reason) {
			_ = it.cs.gc.Close()
		}
		s.sweep[i] = sweepItem{}
	}
	s.sweep = s.sweep[:0]
	return tickInterval(min(idle, frameTimeout)), gnet.None
}

// evictShare: while connections wait for the budget, one holding more
// than MaxPendingWrite/evictShare bytes of answers its terminal has not
// read (64 KiB by default, beyond what the kernel's socket buffers took)
// is closed as a slow reader rather than let it hold the others up until
// it reaches MaxPendingWrite or the idle timeout. A terminal reads its
// answers as they come and never holds that much.
const evictShare = 4

// tickInterval makes the sweeps fine enough that a connection lives at
// most about a quarter longer than the timeout d.
func tickInterval(d time.Duration) time.Duration {
	return min(max(d/4, 10*time.Millisecond), time.Second)
}
