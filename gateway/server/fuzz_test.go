package server

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"ecardgw/codec/frame"
)

// FuzzServerStream sends an arbitrary byte stream, in two writes split at
// cut, to a running echo server. Whatever the bytes, the server must echo
// exactly the frames frame.Next finds, in order, and close the connection
// if the stream hits a frame error; it must never panic or hang.
// Seeds are in testdata/fuzz/FuzzServerStream.
func FuzzServerStream(f *testing.F) {
	const maxFrame = 64
	s, err := New(echo(), Options{Addr: "127.0.0.1:0", MaxFrame: maxFrame, MaxPendingRead: 4096})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		if len(data) > 4096 {
			return
		}
		want, ferr := expectedFrames(data, maxFrame)
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		at := int(cut) % (len(data) + 1)
		if _, err := c.Write(data[:at]); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(data[at:]); err != nil && ferr == nil {
			t.Fatal(err) // a write may only fail once the server closed on a frame error
		}
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("reading %d echoed bytes: %v", len(want), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("echo mismatch:\n got %x\nwant %x", got, want)
		}
		if ferr != nil {
			// After a frame error nothing more comes, and the connection ends.
			if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
				t.Fatalf("after frame error: read %d bytes, err %v", n, err)
			}
		}
	})
}

// expectedFrames is the model: the complete frames before the first frame
// error or incomplete tail, concatenated, and that error.
func expectedFrames(data []byte, maxFrame int) ([]byte, error) {
	var out []byte
	for {
		n, err := frame.Next(data, maxFrame)
		if err != nil || n == 0 {
			return out, err
		}
		out = append(out, data[:n]...)
		data = data[n:]
	}
}
