package vcard

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Default vpcd addresses: pcscd's vsmartcard-vpcd reader listens on
// 0x8C7B (35963) for slot 0 and the next port for slot 1.
const (
	Slot0Addr = "127.0.0.1:35963"
	Slot1Addr = "127.0.0.1:35964"
)

// vpcd control codes (a 1-byte payload).
const (
	ctrlOff   = 0
	ctrlOn    = 1
	ctrlReset = 2
	ctrlATR   = 4
)

// redialEvery is how often an inserted card retries the reader while
// pcscd is away (for example restarting): short, so tests see the card
// come back quickly, but bounded so a stopped pcscd costs nothing.
const redialEvery = 100 * time.Millisecond

// slot is the card's presence in a vpcd reader.
type slot struct {
	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	conn    net.Conn
	inserts int
}

// Insert puts the card into the vpcd reader at addr: it connects (retrying
// until ctx ends), returns once connected, and keeps serving in the
// background, reconnecting whenever the reader goes away (pcscd restart)
// until Remove.
func (c *Card) Insert(ctx context.Context, addr string) error {
	s := &c.slot
	s.mu.Lock()
	if s.cancel != nil {
		s.mu.Unlock()
		return ErrInserted
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	s.mu.Unlock()

	first, err := dial(ctx, addr)
	if err != nil {
		cancel()
		s.mu.Lock()
		s.cancel = nil
		close(s.done)
		s.mu.Unlock()
		return fmt.Errorf("vcard: insert: %w", err)
	}
	go c.run(runCtx, addr, first)
	return nil
}

// Remove pulls the card out of the reader and waits until its connection
// is closed. Removing a card that is not inserted does nothing.
func (c *Card) Remove() {
	s := &c.slot
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	if cancel != nil {
		// Cancel under the lock: run checks the context under it before
		// adopting a fresh connection, so none can slip past Remove.
		cancel()
	}
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	<-done
	c.reset()
}

// Inserts counts the connections made to the reader; tests use it to see
// a reconnect after pcscd restarts.
func (c *Card) Inserts() int {
	c.slot.mu.Lock()
	defer c.slot.mu.Unlock()
	return c.slot.inserts
}

func (c *Card) run(ctx context.Context, addr string, conn net.Conn) {
	defer close(c.slot.done)
	for {
		c.slot.mu.Lock()
		if ctx.Err() != nil {
			c.slot.mu.Unlock()
			conn.Close()
			return
		}
		c.slot.conn = conn
		c.slot.inserts++
		c.slot.mu.Unlock()

		_ = c.serve(conn) // the reader went away or Remove closed the conn
		conn.Close()
		c.reset()

		var err error
		if conn, err = dial(ctx, addr); err != nil {
			return
		}
	}
}

func dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(redialEvery):
		}
	}
}

// serve speaks the vpcd protocol on one connection until it fails.
func (c *Card) serve(rw io.ReadWriter) error {
	var hdr [2]byte
	buf := make([]byte, 0, 512)
	for {
		if _, err := io.ReadFull(rw, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n == 0 {
			return ErrFrame
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(rw, payload); err != nil {
			return err
		}
		var resp []byte
		if n == 1 {
			switch payload[0] {
			case ctrlOff, ctrlOn, ctrlReset:
				c.reset()
				continue // no answer
			case ctrlATR:
				resp = c.cfg.ATR
			default:
				return fmt.Errorf("%w: control %d", ErrFrame, payload[0])
			}
		} else {
			resp, _ = c.Transmit(payload)
		}
		buf = binary.BigEndian.AppendUint16(buf[:0], uint16(len(resp)))
		buf = append(buf, resp...)
		if _, err := rw.Write(buf); err != nil {
			return err
		}
	}
}
