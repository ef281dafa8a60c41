package posclient

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"ecardgw/codec/frame"
	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
)

// Transport carries one request frame to the gateway and returns its answer.
type Transport interface {
	RoundTrip(ctx context.Context, req []byte) ([]byte, error)
}

// TransportFunc adapts a function (e.g. an engine's Handle) to Transport.
type TransportFunc func(ctx context.Context, req []byte) ([]byte, error)

// RoundTrip calls f.
func (f TransportFunc) RoundTrip(ctx context.Context, req []byte) ([]byte, error) { return f(ctx, req) }

// TCP is a Transport over one TCP connection, one request at a time.
type TCP struct {
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects to a gateway's POS port.
func Dial(addr string, timeout time.Duration) (*TCP, error) {
	return dial(net.Dialer{Timeout: timeout}, addr)
}

// DialReadBuffer is Dial with the socket's receive buffer set to rcvBuf
// bytes (SO_RCVBUF) before it connects: a terminal that reads slowly, or
// not at all. Set after the handshake instead, the buffer shrinks below
// the window already advertised; the peer's segments overflow it and are
// dropped, and retransmission backs off for tens of seconds, stalling the
// connection both ways.
func DialReadBuffer(addr string, timeout time.Duration, rcvBuf int) (*TCP, error) {
	return dial(net.Dialer{Timeout: timeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvBuf)
		})
		return errors.Join(err, serr)
	}}, addr)
}

func dial(d net.Dialer, addr string) (*TCP, error) {
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &TCP{conn: c, r: bufio.NewReaderSize(c, 4096)}, nil
}

// Conn returns the underlying connection (tests use it to send raw bytes).
func (t *TCP) Conn() net.Conn { return t.conn }

// Close closes the connection.
func (t *TCP) Close() error { return t.conn.Close() }

// RoundTrip writes req and reads one answer frame.
func (t *TCP) RoundTrip(ctx context.Context, req []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		_ = t.conn.SetDeadline(dl)
	} else {
		_ = t.conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	if _, err := t.conn.Write(req); err != nil {
		return nil, err
	}
	return ReadFrame(t.r)
}

// ReadFrame reads one LEN-prefixed frame (LEN included in the result).
func ReadFrame(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	out := make([]byte, 2+n)
	copy(out, l[:])
	if _, err := io.ReadFull(r, out[2:]); err != nil {
		return nil, err
	}
	return out, nil
}

// Terminal is one POS terminal's identity and keys.
type Terminal struct {
	ID       string // field 41, 8 characters
	Merchant string // field 42, 15 characters
	TMK      []byte // 16-byte master key
	Header   frame.Header

	// DoubleMAK: the terminal is provisioned for a double-length (16-byte)
	// MAK, MACing with ANSI X9.19 (the gateway's `mak: 3des`); a sign-in
	// answer delivering a single-length MAK is refused, as a single-DES
	// terminal refuses a double-length one (docs/protocol.md section 6).
	DoubleMAK bool

	MAK, PIK []byte
	Batch    uint32
	STAN     uint32 // last STAN used
	// BlacklistVersion is the version of the blacklist the terminal holds.
	BlacklistVersion uint32

	T   Transport
	Now func() time.Time
}

// DefaultHeader is the TPDU and header a campus POS sends.
func DefaultHeader() frame.Header {
	return frame.Header{
		TPDU: [5]byte{0x60, 0x00, 0x03, 0x00, 0x00},
		Head: [6]byte{0x60, 0x31, 0x00, 0x31, 0x10, 0x01},
	}
}

// ErrBadAnswer is an answer that does not belong to the request or fails
// its MAC.
var ErrBadAnswer = errors.New("posclient: bad answer")

// NextSTAN returns the next trace number (1..999999).
func (t *Terminal) NextSTAN() uint32 {
	t.STAN = t.STAN%999999 + 1
	return t.STAN
}

func (t *Terminal) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// New starts a request message with the terminal's header, MTI, processing
// code (proc < 0: none), STAN, local time, ids and batch (field 60).
func (t *Terminal) New(mti iso8583.MTI, proc int, network uint16) *iso8583.Message {
	m := new(iso8583.Message)
	t.Fill(m, mti, proc, network)
	return m
}

// Fill is New into a caller's (reused) message.
func (t *Terminal) Fill(m *iso8583.Message, mti iso8583.MTI, proc int, network uint16) {
	t.FillAt(m, mti, proc, network, t.now())
}

// FillAt is Fill with the terminal's local time (fields 12 and 13) given,
// for a caller that already read the clock.
func (t *Terminal) FillAt(m *iso8583.Message, mti iso8583.MTI, proc int, network uint16, now time.Time) {
	m.Reset()
	m.Header = t.Header
	if m.Header == (frame.Header{}) {
		m.Header = DefaultHeader()
	}
	m.MTI = mti
	if proc >= 0 {
		_ = m.SetUint(3, uint64(proc))
	}
	_ = m.SetUint(11, uint64(t.NextSTAN()))
	h, mi, s := now.Clock()
	_ = m.SetUint(12, uint64(h*10000+mi*100+s))
	_ = m.SetUint(13, uint64(int(now.Month())*100+now.Day()))
	_ = m.SetString(41, t.ID)
	_ = m.SetString(42, t.Merchant)
	_ = m.SetF60(iso8583.F60{MsgType: msgType(mti), Batch: t.Batch, Network: network, Len: 11})
}

func msgType(mti iso8583.MTI) uint8 {
	switch mti {
	case 800, 820:
		return 0
	case 100:
		return 1
	case 500:
		return 0
	}
	return 22
}

// Send encodes m (with a MAC when macd: UnionPay ECB under an 8-byte MAK,
// ANSI X9.19 under a 16-byte one), sends it and decodes the answer,
// checking that it answers m and, for MACed requests, that its MAC verifies.
// The raw answer is returned too (retransmission tests compare bytes).
func (t *Terminal) Send(ctx context.Context, m *iso8583.Message, macd bool) (*iso8583.Message, []byte, error) {
	var mak []byte
	if macd {
		mak = t.MAK
		if mak == nil {
			return nil, nil, errors.New("posclient: not signed in")
		}
	}
	req, err := iso8583.AppendFrame(nil, m, mak)
	if err != nil {
		return nil, nil, err
	}
	return t.SendRaw(ctx, req, m, macd)
}

// SendRaw sends an already encoded request (e.g. a retransmission).
func (t *Terminal) SendRaw(ctx context.Context, req []byte, m *iso8583.Message, macd bool) (*iso8583.Message, []byte, error) {
	raw, err := t.T.RoundTrip(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if raw == nil {
		return nil, nil, fmt.Errorf("%w: connection closed without an answer", ErrBadAnswer)
	}
	resp := new(iso8583.Message)
	if err := iso8583.DecodeFrame(resp, raw); err != nil {
		return nil, raw, fmt.Errorf("%w: %v", ErrBadAnswer, err)
	}
	if resp.MTI != m.MTI+10 {
		return resp, raw, fmt.Errorf("%w: MTI %v answers %v", ErrBadAnswer, resp.MTI, m.MTI)
	}
	if s1, _ := resp.STAN(); m.Has(11) && resp.Has(11) {
		if s0, _ := m.STAN(); s0 != s1 {
			return resp, raw, fmt.Errorf("%w: STAN %d answers %d", ErrBadAnswer, s1, s0)
		}
	}
	if macd && resp.Has(64) && t.MAK != nil {
		want, err := mac.Sum(t.MAK, resp.MAB())
		if err != nil || !mac.Equal(want[:], resp.Raw(64)) {
			return resp, raw, fmt.Errorf("%w: answer MAC", ErrBadAnswer)
		}
	}
	return resp, raw, nil
}

// RC returns field 39 of an answer.
func RC(resp *iso8583.Message) string {
	if resp == nil {
		return ""
	}
	return string(resp.Bytes(39))
}

// NewConnTransport is a Transport over a connection someone else dialled
// (a load generator's), one request at a time.
func NewConnTransport(c net.Conn) *TCP { return &TCP{conn: c, r: bufio.NewReaderSize(c, 4096)} }
