package vcard

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/campuscard"
	"ecardgw/cardio/pboc"
)

var (
	master = [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
	term   = [6]byte{0, 0, 0x53, 0x45, 0x54, 0x4C}
	dt     = [7]byte{0x20, 0x26, 0x11, 0x26, 0x09, 0x30, 0x00}
)

// fixedRand makes the card's random predictable.
type fixedRand byte

func (f fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f) + byte(i)
	}
	return len(p), nil
}

func newTestCard(t *testing.T) *Card {
	t.Helper()
	cfg := DemoConfig(master)
	cfg.Rand = fixedRand(0x40)
	cfg.Now = func() time.Time { return time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC) }
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

func tx(t *testing.T, c *Card, hexCmd []byte) ([]byte, uint16) {
	t.Helper()
	out, err := c.Transmit(hexCmd)
	require.NoError(t, err)
	r, err := apdu.ParseResponse(out)
	require.NoError(t, err)
	return r.Data, r.SW
}

var selectCmd = append([]byte{0x00, 0xA4, 0x04, 0x00, 0x07}, campuscard.AID...)

func TestSelectAndFiles(t *testing.T) {
	c := newTestCard(t)
	_, sw := tx(t, c, []byte{0x80, 0x5C, 0x00, 0x02, 0x04})
	require.Equal(t, apdu.SWConditions, sw, "nothing before SELECT")
	_, sw = tx(t, c, []byte{0x00, 0xA4, 0x04, 0x00, 0x02, 0xA0, 0x00})
	require.Equal(t, apdu.SWFileNotFound, sw)
	_, sw = tx(t, c, selectCmd)
	require.Equal(t, apdu.SWOK, sw)

	data, sw := tx(t, c, []byte{0x00, 0xB0, 0x95, 0x00, 0x1E})
	require.Equal(t, apdu.SWOK, sw)
	info, err := campuscard.ParseAppInfo(data)
	require.NoError(t, err)
	require.Equal(t, DemoSerial, info.Serial)

	_, sw = tx(t, c, []byte{0x00, 0xB0, 0x95, 0x00, 0x40})
	require.Equal(t, uint16(0x6C1E), sw, "Le past the file")
	data, sw = tx(t, c, []byte{0x00, 0xB0, 0x96, 0x00, 0x00})
	require.Equal(t, apdu.SWOK, sw)
	require.Len(t, data, campuscard.HolderLen, "Le 00: the whole file")
	data, sw = tx(t, c, []byte{0x00, 0xB0, 0x96, 0x09, 0x06})
	require.Equal(t, apdu.SWOK, sw)
	require.Equal(t, "张三", string(data), "offset in P2")
	_, sw = tx(t, c, []byte{0x00, 0xB0, 0x97, 0x00, 0x10})
	require.Equal(t, apdu.SWFileNotFound, sw)
	_, sw = tx(t, c, []byte{0x00, 0xB0, 0x95, 0x1E, 0x01})
	require.Equal(t, apdu.SWWrongP1P2, sw)

	data, sw = tx(t, c, []byte{0x80, 0x5C, 0x00, 0x02, 0x04})
	require.Equal(t, apdu.SWOK, sw)
	require.Equal(t, uint32(350), binary.BigEndian.Uint32(data))

	data, sw = tx(t, c, []byte{0xFF, 0xCA, 0x00, 0x00, 0x00})
	require.Equal(t, apdu.SWOK, sw)
	require.Equal(t, []byte{0x04, 0xA1, 0xB2, 0xC3}, data)

	_, sw = tx(t, c, []byte{0x00, 0x20, 0x00, 0x00})
	require.Equal(t, apdu.SWINSNotSupported, sw)
	_, sw = tx(t, c, []byte{0xA0, 0xB0, 0x95, 0x00, 0x1E})
	require.Equal(t, apdu.SWCLANotSupported, sw)
	_, sw = tx(t, c, []byte{0x00, 0xB0})
	require.Equal(t, apdu.SWWrongLength, sw)
}

func initLoad(t *testing.T, c *Card, keyIndex byte, amount uint32) ([]byte, uint16) {
	t.Helper()
	cmd := []byte{0x80, 0x50, 0x00, 0x02, 0x0B, keyIndex}
	cmd = binary.BigEndian.AppendUint32(cmd, amount)
	cmd = append(cmd, term[:]...)
	return tx(t, c, append(cmd, 0x10))
}

func credit(t *testing.T, c *Card, mac2 [4]byte) ([]byte, uint16) {
	t.Helper()
	cmd := append([]byte{0x80, 0x52, 0x00, 0x00, 0x0B}, dt[:]...)
	cmd = append(cmd, mac2[:]...)
	return tx(t, c, append(cmd, 0x04))
}

func sessionKey(t *testing.T, random []byte, counter uint16) [8]byte {
	t.Helper()
	key, err := pboc.DeriveCardKey(master, DemoSerial[:])
	require.NoError(t, err)
	var r [4]byte
	copy(r[:], random)
	return pboc.SessionKey(key, r, counter)
}

func TestLoad(t *testing.T) {
	c := newTestCard(t)
	tx(t, c, selectCmd)
	resp, sw := initLoad(t, c, 1, 650)
	require.Equal(t, apdu.SWOK, sw)
	require.Len(t, resp, 16)
	require.Equal(t, uint32(350), binary.BigEndian.Uint32(resp[0:4]))
	require.Equal(t, uint16(0), binary.BigEndian.Uint16(resp[4:6]))
	require.Equal(t, []byte{0x40, 0x41, 0x42, 0x43}, resp[8:12])
	sk := sessionKey(t, resp[8:12], 0)
	mac1 := pboc.MAC1(sk, 350, 650, term)
	require.Equal(t, mac1[:], resp[12:16])

	tac, sw := credit(t, c, pboc.MAC2(sk, 650, term, dt))
	require.Equal(t, apdu.SWOK, sw)
	want := pboc.TAC(sk, 1000, 0, 650, term, dt)
	require.Equal(t, want[:], tac)
	require.Equal(t, int64(1000), c.Balance())
	require.Equal(t, uint16(1), c.Counter())
	require.Equal(t, []campuscard.LogRecord{{Counter: 0, Amount: 650, Type: pboc.TypeLoad, Terminal: term, DateTime: dt}}, c.Log())

	// The next load uses the new counter in its session key.
	require.NoError(t, c.Spend(100))
	resp, sw = initLoad(t, c, 1, 100)
	require.Equal(t, apdu.SWOK, sw)
	require.Equal(t, uint16(1), binary.BigEndian.Uint16(resp[4:6]))
	sk = sessionKey(t, resp[8:12], 1)
	mac1 = pboc.MAC1(sk, 900, 100, term)
	require.Equal(t, mac1[:], resp[12:16])
}

func TestLoadRefusals(t *testing.T) {
	c := newTestCard(t)
	tx(t, c, selectCmd)

	_, sw := initLoad(t, c, 2, 100)
	require.Equal(t, apdu.SWKeyNotFound, sw)
	_, sw = initLoad(t, c, 1, 651)
	require.Equal(t, apdu.SWConditions, sw, "over the 1000 fen limit")

	_, sw = credit(t, c, [4]byte{})
	require.Equal(t, apdu.SWConditions, sw, "credit without initialize")

	resp, sw := initLoad(t, c, 1, 100)
	require.Equal(t, apdu.SWOK, sw)
	_, sw = credit(t, c, [4]byte{1, 2, 3, 4})
	require.Equal(t, apdu.SWMACInvalid, sw)
	sk := sessionKey(t, resp[8:12], 0)
	_, sw = credit(t, c, pboc.MAC2(sk, 100, term, dt))
	require.Equal(t, apdu.SWConditions, sw, "a refused MAC2 ends the load")

	resp, sw = initLoad(t, c, 1, 100)
	require.Equal(t, apdu.SWOK, sw)
	tx(t, c, []byte{0x80, 0x5C, 0x00, 0x02, 0x04})
	sk = sessionKey(t, resp[8:12], 0)
	_, sw = credit(t, c, pboc.MAC2(sk, 100, term, dt))
	require.Equal(t, apdu.SWConditions, sw, "another command in between abandons the load")

	resp, sw = initLoad(t, c, 1, 100)
	require.Equal(t, apdu.SWOK, sw)
	c.reset() // what a vpcd reset does
	tx(t, c, selectCmd)
	sk = sessionKey(t, resp[8:12], 0)
	_, sw = credit(t, c, pboc.MAC2(sk, 100, term, dt))
	require.Equal(t, apdu.SWConditions, sw, "reset abandons the load")

	require.Equal(t, int64(350), c.Balance())
	require.Equal(t, uint16(0), c.Counter())
	require.Empty(t, c.Log())
}

func TestSpendAndLog(t *testing.T) {
	c := newTestCard(t)
	require.ErrorIs(t, c.Spend(351), ErrInsufficient)
	require.ErrorIs(t, c.Spend(0), ErrAmount)
	for i := range 12 {
		require.NoError(t, c.Spend(int64(i+1)))
	}
	require.Equal(t, int64(350-78), c.Balance())
	log := c.Log()
	require.Len(t, log, campuscard.MaxLog)
	require.Equal(t, int64(12), log[0].Amount, "newest first")
	require.Equal(t, uint16(11), log[0].Counter)
	require.Equal(t, byte(pboc.TypePurchase), log[0].Type)
	require.Equal(t, DemoConfig(master).WaterTerm, log[0].Terminal)

	tx(t, c, selectCmd)
	data, sw := tx(t, c, []byte{0x00, 0xB2, 0x01, 0xC4, 0x17})
	require.Equal(t, apdu.SWOK, sw)
	r, err := campuscard.ParseLogRecord(data)
	require.NoError(t, err)
	require.Equal(t, log[0], r)
	_, sw = tx(t, c, []byte{0x00, 0xB2, 0x0B, 0xC4, 0x17})
	require.Equal(t, apdu.SWRecordNotFound, sw)
	_, sw = tx(t, c, []byte{0x00, 0xB2, 0x01, 0xBC, 0x17})
	require.Equal(t, apdu.SWFileNotFound, sw)
	_, sw = tx(t, c, []byte{0x00, 0xB2, 0x01, 0xC4, 0x10})
	require.Equal(t, uint16(0x6C17), sw)
}

func TestConfigChecks(t *testing.T) {
	cfg := DemoConfig(master)
	cfg.Balance = 1001
	_, err := New(cfg)
	require.ErrorIs(t, err, ErrConfig)
	cfg = DemoConfig(master)
	cfg.Info.Serial[0] = 0xAB
	_, err = New(cfg)
	require.ErrorIs(t, err, ErrConfig)
}

func TestDefaultATR(t *testing.T) {
	var x byte
	for _, b := range DefaultATR[1:] {
		x ^= b
	}
	require.Zero(t, x, "TCK makes the XOR of T0..TCK zero")
	require.True(t, bytes.Contains(DefaultATR, []byte("ECARD")))
}
