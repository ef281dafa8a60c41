package vcard

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeVPCD plays pcscd's vpcd driver: it listens and talks to the card.
type fakeVPCD struct {
	t  *testing.T
	ln net.Listener
}

func newFakeVPCD(t *testing.T) *fakeVPCD {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return &fakeVPCD{t: t, ln: ln}
}

func (f *fakeVPCD) accept() net.Conn {
	f.t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := f.ln.Accept()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		require.NoError(f.t, r.err)
		require.NoError(f.t, r.c.SetDeadline(time.Now().Add(5*time.Second)))
		f.t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(5 * time.Second):
		f.t.Fatal("card never connected")
		return nil
	}
}

func send(t *testing.T, c net.Conn, payload []byte) {
	t.Helper()
	_, err := c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(payload))))
	require.NoError(t, err)
	_, err = c.Write(payload)
	require.NoError(t, err)
}

func recv(t *testing.T, c net.Conn) []byte {
	t.Helper()
	var hdr [2]byte
	_, err := io.ReadFull(c, hdr[:])
	require.NoError(t, err)
	out := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	_, err = io.ReadFull(c, out)
	require.NoError(t, err)
	return out
}

func TestVPCDProtocol(t *testing.T) {
	f := newFakeVPCD(t)
	card := newTestCard(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, card.Insert(ctx, f.ln.Addr().String()))
	require.ErrorIs(t, card.Insert(ctx, f.ln.Addr().String()), ErrInserted)
	conn := f.accept()

	send(t, conn, []byte{ctrlOn}) // no answer expected
	send(t, conn, []byte{ctrlATR})
	require.Equal(t, DefaultATR, recv(t, conn))
	send(t, conn, selectCmd)
	require.Equal(t, []byte{0x90, 0x00}, recv(t, conn))
	send(t, conn, []byte{0x80, 0x5C, 0x00, 0x02, 0x04})
	require.Equal(t, []byte{0, 0, 0x01, 0x5E, 0x90, 0x00}, recv(t, conn))

	// Reset deselects the application.
	send(t, conn, []byte{ctrlReset})
	send(t, conn, []byte{0x80, 0x5C, 0x00, 0x02, 0x04})
	require.Equal(t, []byte{0x69, 0x85}, recv(t, conn))

	// The reader goes away (pcscd restart): the card comes back by itself.
	conn.Close()
	conn = f.accept()
	send(t, conn, []byte{ctrlATR})
	require.Equal(t, DefaultATR, recv(t, conn))
	require.Equal(t, 2, card.Inserts())

	// Pulling the card closes the connection.
	card.Remove()
	var b [1]byte
	_, err := conn.Read(b[:])
	require.ErrorIs(t, err, io.EOF)
	card.Remove() // twice is harmless
}

func TestVPCDBadFrames(t *testing.T) {
	for name, frame := range map[string][]byte{
		"zero length":     {0, 0},
		"unknown control": {0, 1, 9},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeVPCD(t)
			card := newTestCard(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, card.Insert(ctx, f.ln.Addr().String()))
			defer card.Remove()
			conn := f.accept()
			_, err := conn.Write(frame)
			require.NoError(t, err)
			var b [1]byte
			_, err = conn.Read(b[:])
			require.ErrorIs(t, err, io.EOF, "the card hangs up on a protocol error")
		})
	}
}

func TestInsertGivesUp(t *testing.T) {
	// A port nobody listens on: Insert retries until its context ends.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	card := newTestCard(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, card.Insert(ctx, addr), context.DeadlineExceeded)
	card.Remove()
}
