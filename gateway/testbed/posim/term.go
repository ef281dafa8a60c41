package posim

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/gateway/posclient"
)

// simTerm is one simulated terminal: a connection, its session and its
// share of the cards. Its request and answer messages and buffers are
// reused from one request to the next.
type simTerm struct {
	run         *runner
	idx         int
	term        posclient.Terminal
	conn        net.Conn
	br          *bufio.Reader
	raw         bool
	mix         Mix
	total       int
	cards       []*Card // cards it pays with (shared with other terminals)
	walletCards []*Card // cards only this settlement terminal loads
	next        int
	rng         *rand.Rand

	req, resp  iso8583.Message
	mak        mac.Key // the session MAK's schedule (macKey)
	wbuf, rbuf []byte
	code       []byte      // the payment code being sent (reused)
	refreshAt  time.Time   // when to push the I/O deadline forward again
	timer      *time.Timer // sleep's, reused
}

// sleep waits d, or until the run is cancelled (false). The terminal
// keeps one timer: a paced terminal waits before nearly every request.
func (st *simTerm) sleep(d time.Duration) bool {
	if st.timer == nil {
		st.timer = time.NewTimer(d)
	} else {
		st.timer.Reset(d) // no stale tick can be pending (Go 1.23 timers)
	}
	select {
	case <-st.timer.C:
		return true
	case <-st.run.ctx.Done():
		st.timer.Stop()
		return false
	}
}

func (st *simTerm) nextCard() *Card {
	c := st.cards[st.next%len(st.cards)]
	st.next++
	return c
}

func (st *simTerm) amount() int64 { return st.run.opts.Amount }

func (st *simTerm) timeout() time.Duration {
	if st.run.opts.Timeout > 0 {
		return st.run.opts.Timeout
	}
	return DefaultTimeout
}

// exchange writes one request frame and reads one answer frame into
// st.rbuf; now is the clock at the send. The I/O deadline moves forward
// only every half timeout: a deadline per request would cost a timer
// update per request.
func (st *simTerm) exchange(req []byte, now time.Time) ([]byte, error) {
	if now.After(st.refreshAt) {
		to := st.timeout()
		if err := st.conn.SetDeadline(now.Add(to)); err != nil {
			return nil, err
		}
		st.refreshAt = now.Add(to / 2)
	}
	if _, err := st.conn.Write(req); err != nil {
		return nil, err
	}
	var err error
	st.rbuf, err = readFrame(st.br, st.rbuf)
	return st.rbuf, err
}

// readFrame reads LEN and the frame after it into buf.
func readFrame(br *bufio.Reader, buf []byte) ([]byte, error) {
	if cap(buf) < 2 {
		buf = make([]byte, 0, 256)
	}
	buf = buf[:2]
	if _, err := io.ReadFull(br, buf); err != nil {
		return buf, err
	}
	n := int(binary.BigEndian.Uint16(buf))
	if cap(buf) < 2+n {
		buf = append(make([]byte, 0, 2+n), buf...)
	}
	buf = buf[:2+n]
	_, err := io.ReadFull(br, buf[2:])
	return buf, err
}

// RoundTrip makes the terminal its own posclient transport for sign-in
// and the first taps (the answer is copied: posclient keeps it).
func (st *simTerm) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = st.conn.SetDeadline(dl)
		st.refreshAt = time.Time{}
	}
	ans, err := st.exchange(req, time.Now())
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), ans...), nil
}

var _ posclient.Transport = (*simTerm)(nil)

// connect dials, signs in and, for the cards this terminal is in charge
// of, does the first tap (card sync) that activates the electronic card
// and tells the gateway the wallet state.
func (st *simTerm) connect(ctx context.Context, syncs []*Card) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", st.run.addr)
	if err != nil {
		return err
	}
	st.conn, st.refreshAt = c, time.Time{}
	if st.br == nil {
		st.br = bufio.NewReaderSize(c, 512)
	} else {
		st.br.Reset(c)
	}
	st.term.T = st
	if st.raw || st.mix[KindEcho] == st.total {
		return nil // the echo test needs no session
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := st.term.SignIn(sctx, st.term.Batch); err != nil {
		_ = c.Close()
		return fmt.Errorf("terminal %s: %w", st.term.ID, err)
	}
	for _, card := range syncs {
		m, err := syncRequest(&st.term, card)
		if err != nil {
			_ = c.Close()
			return err
		}
		resp, _, err := st.term.Send(sctx, m, true)
		if err != nil {
			_ = c.Close()
			return fmt.Errorf("terminal %s: first tap: %w", st.term.ID, err)
		}
		if rc := posclient.RC(resp); rc != "00" {
			_ = c.Close()
			return fmt.Errorf("terminal %s: first tap of account %d answered %s", st.term.ID, card.Account, rc)
		}
	}
	return nil
}

// loop sends until the end of the run. start is the common start of the
// timed phase; end is its end. The clock is read twice per request: when
// it is due (or sent) and when its answer is in.
func (st *simTerm) loop(start, end time.Time) {
	r := st.run
	think := r.opts.Think
	var k int64
	for {
		now := time.Now()
		due := now
		if think > 0 {
			due = SendAt(start, st.idx, r.opts.Terminals, think, k)
			k++
			if wait := due.Sub(now); wait > 0 {
				if !due.Before(end) {
					return
				}
				if !st.sleep(wait) {
					return
				}
				now = time.Now()
			} else if -wait > think/2 {
				r.col.lateSend()
			}
		}
		if !now.Before(end) || r.ctx.Err() != nil || !r.take() {
			return
		}
		kind := st.mix.Pick(st.rng.IntN(st.total))
		p, err := st.build(kind, now)
		if err != nil {
			r.col.record(kind, 0, "", err)
			continue
		}
		rc, err := st.roundTrip(&p, now)
		r.col.record(kind, time.Since(due), rc, err)
		if err != nil && !st.reconnect(end) {
			return
		}
	}
}

// reconnect replaces a connection that failed (the gateway may have
// closed it after a bad answer); the terminal signs in again.
func (st *simTerm) reconnect(end time.Time) bool {
	_ = st.conn.Close()
	for time.Now().Before(end) && st.run.ctx.Err() == nil {
		if err := st.connect(st.run.ctx, nil); err == nil {
			return true
		}
		if !st.sleep(time.Second) {
			return false
		}
	}
	return false
}
