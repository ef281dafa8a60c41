package apdu

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseResponse checks that any byte string either fails cleanly or
// parses into data and status that re-encode to the same bytes. Seeds are
// in testdata/fuzz/FuzzParseResponse.
func FuzzParseResponse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if err != nil {
			return
		}
		require.True(t, bytes.Equal(b, AppendResponse(nil, r.Data, r.SW)))
	})
}

// FuzzParseCommand: a command the virtual card accepts re-encodes to the
// same bytes. Seeds are in testdata/fuzz/FuzzParseCommand.
func FuzzParseCommand(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		out, err := c.Bytes()
		require.NoError(t, err)
		require.True(t, bytes.Equal(b, out), "% X re-encoded as % X", b, out)
	})
}

// FuzzExchange feeds arbitrary card answers to Exchange: it must return
// data or an error, never panic or loop.
func FuzzExchange(f *testing.F) {
	f.Add([]byte{0x61, 0x02, 0x01, 0x02, 0x90, 0x00}, byte(2))
	f.Add([]byte{0x6C, 0x04, 1, 2, 3, 4, 0x90, 0x00}, byte(4))
	f.Add([]byte{0x93, 0x02}, byte(4))
	f.Fuzz(func(t *testing.T, script []byte, ne byte) {
		s := &scripted{script: script}
		data, err := Exchange(s, Command{CLA: 0x80, INS: 0x5C, P2: 2, Ne: int(ne) + 1})
		if err == nil {
			require.LessOrEqual(t, len(data), MaxNe*(maxChain+2))
		}
	})
}

// scripted answers each command with the next chunk of its script: a
// status word, optionally preceded by as many data bytes as the previous
// SW2 announced. It runs out into 2-byte garbage.
type scripted struct {
	script []byte
	want   int
}

func (s *scripted) Transmit([]byte) ([]byte, error) {
	n := min(s.want+2, len(s.script))
	out := s.script[:n]
	s.script = s.script[n:]
	if n >= 2 {
		s.want = int(out[n-1])
	}
	return out, nil
}
