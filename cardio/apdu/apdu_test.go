package apdu

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommandCases(t *testing.T) {
	data := []byte{0xF0, 0x45, 0x43, 0x41, 0x52, 0x44, 0x01}
	for _, tc := range []struct {
		name string
		c    Command
		want []byte
	}{
		{"case 1", Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x00}, []byte{0x00, 0xA4, 0x04, 0x00}},
		{"case 2", Command{CLA: 0x80, INS: 0x5C, P1: 0x00, P2: 0x02, Ne: 4}, []byte{0x80, 0x5C, 0x00, 0x02, 0x04}},
		{"case 2 Le 256", Command{INS: 0xB0, P1: 0x95, Ne: 256}, []byte{0x00, 0xB0, 0x95, 0x00, 0x00}},
		{"case 3", Command{INS: 0xA4, P1: 0x04, Data: data}, append([]byte{0x00, 0xA4, 0x04, 0x00, 0x07}, data...)},
		{"case 4", Command{INS: 0xA4, P1: 0x04, Data: data, Ne: 256}, append(append([]byte{0x00, 0xA4, 0x04, 0x00, 0x07}, data...), 0x00)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Bytes()
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			back, err := ParseCommand(got)
			require.NoError(t, err)
			again, err := back.Bytes()
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestCommandInvalid(t *testing.T) {
	for name, c := range map[string]Command{
		"data 256": {Data: make([]byte, 256)},
		"Ne 257":   {Ne: 257},
		"Ne < 0":   {Ne: -1},
	} {
		_, err := c.Bytes()
		require.ErrorIs(t, err, ErrBadCommand, name)
	}
	for name, b := range map[string][]byte{
		"3 bytes":       {0, 0xA4, 4},
		"Lc too long":   {0, 0xA4, 4, 0, 5, 1, 2},
		"Lc 00 + data":  {0, 0xA4, 4, 0, 0, 1, 2},
		"two extra":     {0, 0xA4, 4, 0, 1, 9, 0, 0},
		"Lc short by 1": {0, 0xA4, 4, 0, 3, 1, 2},
	} {
		_, err := ParseCommand(b)
		require.ErrorIs(t, err, ErrBadCommand, name)
	}
}

func TestParseResponse(t *testing.T) {
	r, err := ParseResponse([]byte{1, 2, 3, 0x90, 0x00})
	require.NoError(t, err)
	require.Equal(t, []byte{1, 2, 3}, r.Data)
	require.Equal(t, SWOK, r.SW)

	r, err = ParseResponse([]byte{0x61, 0x10})
	require.NoError(t, err)
	require.Empty(t, r.Data)
	require.Equal(t, byte(0x61), r.SW1())
	require.Equal(t, byte(0x10), r.SW2())

	for name, b := range map[string][]byte{"empty": nil, "one byte": {0x90}} {
		_, err := ParseResponse(b)
		require.ErrorIs(t, err, ErrShortResponse, name)
	}
	for name, b := range map[string][]byte{"SW1 00": {0x00, 0x00}, "SW1 A0": {1, 0xA0, 0x00}, "SW1 5F": {0x5F, 0x00}} {
		_, err := ParseResponse(b)
		require.ErrorIs(t, err, ErrBadStatus, name)
	}
}

// step is one expected command and the canned answer of the fake card.
type step struct {
	cmd  []byte
	resp []byte
	err  error
}

type fakeCard struct {
	t     *testing.T
	steps []step
}

func (f *fakeCard) Transmit(cmd []byte) ([]byte, error) {
	f.t.Helper()
	require.NotEmpty(f.t, f.steps, "unexpected command % X", cmd)
	s := f.steps[0]
	f.steps = f.steps[1:]
	require.Equal(f.t, s.cmd, cmd)
	return s.resp, s.err
}

func (f *fakeCard) done() { require.Empty(f.t, f.steps, "commands not sent") }

var _ Transmitter = (*fakeCard)(nil)

func TestExchange(t *testing.T) {
	balance := Command{CLA: 0x80, INS: 0x5C, P2: 0x02, Ne: 4}
	readInfo := Command{INS: 0xB0, P1: 0x95, Ne: 30}
	file := make([]byte, 30)
	for i := range file {
		file[i] = byte(i)
	}
	for _, tc := range []struct {
		name  string
		c     Command
		steps []step
		want  []byte
		err   error
		sw    uint16
	}{
		{name: "9000", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0, 0, 1, 0xF4, 0x90, 0}}}, want: []byte{0, 0, 1, 0xF4}},
		{name: "case 1 no data", c: Command{INS: 0xA4, P1: 4}, steps: []step{{cmd: []byte{0, 0xA4, 4, 0}, resp: []byte{0x90, 0}}}, want: nil},
		{
			name: "61xx chained twice", c: readInfo,
			steps: []step{
				{cmd: []byte{0, 0xB0, 0x95, 0, 0x1E}, resp: append(append([]byte{}, file[:10]...), 0x61, 0x0A)},
				{cmd: []byte{0, 0xC0, 0, 0, 0x0A}, resp: append(append([]byte{}, file[10:20]...), 0x61, 0x0A)},
				{cmd: []byte{0, 0xC0, 0, 0, 0x0A}, resp: append(append([]byte{}, file[20:]...), 0x90, 0x00)},
			},
			want: file,
		},
		{
			name: "6Cxx repeat", c: Command{INS: 0xB0, P1: 0x95, Ne: 256},
			steps: []step{
				{cmd: []byte{0, 0xB0, 0x95, 0, 0x00}, resp: []byte{0x6C, 0x1E}},
				{cmd: []byte{0, 0xB0, 0x95, 0, 0x1E}, resp: append(append([]byte{}, file...), 0x90, 0x00)},
			},
			want: file,
		},
		{
			name: "6Cxx then 61xx", c: Command{INS: 0xB0, P1: 0x95, Ne: 256},
			steps: []step{
				{cmd: []byte{0, 0xB0, 0x95, 0, 0x00}, resp: []byte{0x6C, 0x1E}},
				{cmd: []byte{0, 0xB0, 0x95, 0, 0x1E}, resp: []byte{0x61, 0x1E}},
				{cmd: []byte{0, 0xC0, 0, 0, 0x1E}, resp: append(append([]byte{}, file...), 0x90, 0x00)},
			},
			want: file,
		},
		{
			name: "6Cxx twice", c: Command{INS: 0xB0, P1: 0x95, Ne: 5},
			steps: []step{
				{cmd: []byte{0, 0xB0, 0x95, 0, 0x05}, resp: []byte{0x6C, 0x1E}},
				{cmd: []byte{0, 0xB0, 0x95, 0, 0x1E}, resp: []byte{0x6C, 0x1F}},
			},
			err: ErrChain,
		},
		{name: "9302", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0x93, 0x02}}}, err: ErrMACInvalid, sw: 0x9302},
		{name: "9401", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0x94, 0x01}}}, err: ErrInsufficientFunds, sw: 0x9401},
		{name: "9403", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0x94, 0x03}}}, err: ErrKeyNotFound, sw: 0x9403},
		{name: "6A82", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0x6A, 0x82}}}, err: ErrFileNotFound, sw: 0x6A82},
		{name: "6985", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0x69, 0x85}}}, err: ErrConditions, sw: 0x6985},
		{name: "unnamed 6F00", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0x6F, 0x00}}}, err: ErrStatus, sw: 0x6F00},
		{name: "error after 61xx", c: readInfo, steps: []step{
			{cmd: []byte{0, 0xB0, 0x95, 0, 0x1E}, resp: []byte{0x61, 0x1E}},
			{cmd: []byte{0, 0xC0, 0, 0, 0x1E}, resp: []byte{0x6A, 0x82}},
		}, err: ErrFileNotFound, sw: 0x6A82},
		{name: "short", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0x90}}}, err: ErrShortResponse},
		{name: "garbage", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{0xDE, 0xAD, 0xBE, 0xEF}}}, err: ErrBadStatus},
		{name: "too long", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, resp: []byte{1, 2, 3, 4, 5, 0x90, 0}}}, err: ErrTooLong},
		{name: "data on case 1", c: Command{INS: 0xA4, P1: 4}, steps: []step{{cmd: []byte{0, 0xA4, 4, 0}, resp: []byte{1, 0x90, 0}}}, err: ErrTooLong},
		{name: "removed", c: balance, steps: []step{{cmd: []byte{0x80, 0x5C, 0, 2, 4}, err: fmt.Errorf("pcsc: %w", ErrCardRemoved)}}, err: ErrCardRemoved},
		{name: "bad command", c: Command{Ne: 300}, err: ErrBadCommand},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeCard{t: t, steps: tc.steps}
			got, err := Exchange(f, tc.c)
			f.done()
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Equal(t, tc.sw, SW(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestExchangeEndlessChain(t *testing.T) {
	f := &fakeCard{t: t, steps: []step{{cmd: []byte{0, 0xB0, 0x95, 0, 0}, resp: []byte{0x61, 0x01}}}}
	for range maxChain {
		f.steps = append(f.steps, step{cmd: []byte{0, 0xC0, 0, 0, 1}, resp: []byte{0xAA, 0x61, 0x01}})
	}
	_, err := Exchange(f, Command{INS: 0xB0, P1: 0x95, Ne: 256})
	f.done()
	require.ErrorIs(t, err, ErrChain)
}

func TestStatusErrorText(t *testing.T) {
	require.Equal(t, "apdu: status 9302 (MAC invalid)", (&StatusError{SW: 0x9302}).Error())
	require.Equal(t, "apdu: status 6F00", (&StatusError{SW: 0x6F00}).Error())
	require.False(t, errors.Is(&StatusError{SW: 0x9302}, ErrKeyNotFound))
}

func TestAllocsParseResponse(t *testing.T) {
	b := []byte{1, 2, 3, 4, 0x90, 0x00}
	n := testing.AllocsPerRun(100, func() { _, _ = ParseResponse(b) })
	require.Zero(t, n)
}

func BenchmarkExchangeBalance(b *testing.B) {
	c := Command{CLA: 0x80, INS: 0x5C, P2: 0x02, Ne: 4}
	echo := echoCard{0, 0, 1, 0xF4, 0x90, 0}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Exchange(echo, c); err != nil {
			b.Fatal(err)
		}
	}
}

type echoCard []byte

func (e echoCard) Transmit([]byte) ([]byte, error) { return e, nil }
