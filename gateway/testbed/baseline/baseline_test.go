package baseline

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func frameOf(seq byte, pad int) []byte {
	body := 11 + 1 + pad
	f := binary.BigEndian.AppendUint16(nil, uint16(body))
	f = append(f, make([]byte, 11)...)
	f = append(f, seq)
	return append(f, make([]byte, pad)...)
}

func TestEcho(t *testing.T) {
	s, err := Start("127.0.0.1:0", false)
	require.NoError(t, err)
	defer s.Stop()
	require.NotZero(t, s.Addr().(*net.TCPAddr).Port)

	c, err := net.Dial("tcp", s.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))

	// Coalesced frames, then one split across writes.
	var all []byte
	for i := range 20 {
		all = append(all, frameOf(byte(i), i)...)
	}
	_, err = c.Write(all)
	require.NoError(t, err)
	got := make([]byte, len(all))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, all, got)

	f := frameOf(99, 40)
	_, err = c.Write(f[:7])
	require.NoError(t, err)
	_, err = c.Write(f[7:])
	require.NoError(t, err)
	got = make([]byte, len(f))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, f, got)

	// An oversized LEN closes the connection.
	_, err = c.Write([]byte{0xFF, 0xFF})
	require.NoError(t, err)
	n, err := c.Read(got)
	require.Zero(t, n)
	require.ErrorIs(t, err, io.EOF)
}

func TestStartPortTaken(t *testing.T) {
	s, err := Start("127.0.0.1:0", false)
	require.NoError(t, err)
	defer s.Stop()
	_, err = Start(s.Addr().String(), false)
	require.Error(t, err)
}
