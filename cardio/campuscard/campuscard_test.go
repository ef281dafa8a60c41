package campuscard_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/campuscard"
	"ecardgw/cardio/pboc"
	"ecardgw/cardio/vcard"
)

var (
	master = [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
	term   = [6]byte{0, 0, 0x53, 0x45, 0x54, 0x4C}
	dt     = pboc.DateTime(time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC))
)

func newCard(t *testing.T) (*vcard.Card, *campuscard.Card) {
	t.Helper()
	v, err := vcard.New(vcard.DemoConfig(master))
	require.NoError(t, err)
	return v, campuscard.New(v)
}

func TestReadEverything(t *testing.T) {
	v, c := newCard(t)
	require.NoError(t, v.Spend(50))
	require.NoError(t, c.Select())

	info, err := c.ReadAppInfo()
	require.NoError(t, err)
	require.Equal(t, "ECARDU01", info.IssuerID)
	require.Equal(t, "10000000202601234567", info.SerialDigits())
	require.Equal(t, "202601234567", info.CardNumber())
	require.Equal(t, time.Date(2030, 7, 31, 0, 0, 0, 0, time.UTC), info.ValidTo)

	h, err := c.ReadHolder()
	require.NoError(t, err)
	require.Equal(t, campuscard.Holder{Account: 10000042, CardType: campuscard.TypeStudent, Name: "张三", StaffNo: "2026010001"}, h)

	bal, err := c.Balance()
	require.NoError(t, err)
	require.Equal(t, int64(300), bal)

	log, err := c.ReadLog(5)
	require.NoError(t, err, "fewer records than asked is fine")
	require.Len(t, log, 1)
	require.Equal(t, int64(50), log[0].Amount)

	uid, err := c.UID()
	require.NoError(t, err)
	require.Equal(t, []byte{0x04, 0xA1, 0xB2, 0xC3}, uid)
}

func TestNotSelected(t *testing.T) {
	_, c := newCard(t)
	_, err := c.Balance()
	require.ErrorIs(t, err, apdu.ErrConditions)
}

func gateway(t *testing.T, amount int64) campuscard.Authorizer {
	return func(info campuscard.AppInfo, li campuscard.LoadInit) ([4]byte, error) {
		key, err := pboc.DeriveCardKey(master, info.Serial[:])
		require.NoError(t, err)
		sk := pboc.SessionKey(key, li.Random, li.Counter)
		if !pboc.Equal(li.MAC1, pboc.MAC1(sk, uint32(li.Balance), uint32(amount), term)) {
			return [4]byte{}, errors.New("MAC1")
		}
		return pboc.MAC2(sk, uint32(amount), term, dt), nil
	}
}

func TestLoad(t *testing.T) {
	v, c := newCard(t)
	res, err := c.Load(campuscard.LoadRequest{KeyIndex: 1, Amount: 650, Terminal: term, DateTime: dt}, gateway(t, 650))
	require.NoError(t, err)
	require.Equal(t, int64(350), res.Init.Balance)
	key, err := pboc.DeriveCardKey(master, vcard.DemoSerial[:])
	require.NoError(t, err)
	sk := pboc.SessionKey(key, res.Init.Random, 0)
	require.Equal(t, pboc.TAC(sk, 1000, 0, 650, term, dt), res.TAC)
	require.Equal(t, int64(1000), v.Balance())

	log, err := c.ReadLog(campuscard.MaxLog)
	require.NoError(t, err)
	require.Equal(t, []campuscard.LogRecord{{Counter: 0, Amount: 650, Type: pboc.TypeLoad, Terminal: term, DateTime: dt}}, log)
}

func TestLoadFailures(t *testing.T) {
	v, c := newCard(t)
	req := campuscard.LoadRequest{KeyIndex: 1, Amount: 100, Terminal: term, DateTime: dt}

	// Declined by the gateway: nothing authorised, nothing to reverse.
	_, err := c.Load(req, func(campuscard.AppInfo, campuscard.LoadInit) ([4]byte, error) {
		return [4]byte{}, errors.New("declined 51")
	})
	require.Error(t, err)
	require.NotErrorIs(t, err, campuscard.ErrLoadIncomplete)

	// Refused by the card before authorisation.
	_, err = c.Load(campuscard.LoadRequest{KeyIndex: 9, Amount: 100, Terminal: term, DateTime: dt}, gateway(t, 100))
	require.ErrorIs(t, err, apdu.ErrKeyNotFound)
	require.NotErrorIs(t, err, campuscard.ErrLoadIncomplete)

	// A wrong MAC2 after authorisation: incomplete, reverse.
	_, err = c.Load(req, func(campuscard.AppInfo, campuscard.LoadInit) ([4]byte, error) { return [4]byte{9}, nil })
	require.ErrorIs(t, err, campuscard.ErrLoadIncomplete)
	require.ErrorIs(t, err, apdu.ErrMACInvalid)

	_, err = c.InitializeForLoad(1, -1, term)
	require.ErrorIs(t, err, campuscard.ErrAmount)
	require.Equal(t, int64(350), v.Balance())
}

// scripted answers every command with the next canned response.
type scripted [][]byte

func (s *scripted) Transmit([]byte) ([]byte, error) {
	if len(*s) == 0 {
		return nil, apdu.ErrCardRemoved
	}
	r := (*s)[0]
	*s = (*s)[1:]
	return r, nil
}

func TestMalformedAnswers(t *testing.T) {
	ok := []byte{0x90, 0x00}
	for name, tc := range map[string]struct {
		resp [][]byte
		op   func(*campuscard.Card) error
		want error
	}{
		"short app info": {[][]byte{append(make([]byte, 29), ok...)}, func(c *campuscard.Card) error { _, err := c.ReadAppInfo(); return err }, campuscard.ErrLength},
		"serial not BCD": {[][]byte{append(append(make([]byte, 10), 0xAA, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x26, 1, 1, 0x20, 0x30, 1, 1, 0, 0), ok...)}, func(c *campuscard.Card) error { _, err := c.ReadAppInfo(); return err }, campuscard.ErrFormat},
		"bad date":       {[][]byte{append(append(make([]byte, 20), 0x20, 0x26, 0x13, 0x01, 0x20, 0x30, 1, 1, 0, 0), ok...)}, func(c *campuscard.Card) error { _, err := c.ReadAppInfo(); return err }, campuscard.ErrFormat},
		"short holder":   {[][]byte{append(make([]byte, 54), ok...)}, func(c *campuscard.Card) error { _, err := c.ReadHolder(); return err }, campuscard.ErrLength},
		"short balance":  {[][]byte{{0, 1, 0x90, 0}}, func(c *campuscard.Card) error { _, err := c.Balance(); return err }, campuscard.ErrLength},
		"long balance":   {[][]byte{{0, 1, 2, 3, 4, 0x90, 0}}, func(c *campuscard.Card) error { _, err := c.Balance(); return err }, apdu.ErrTooLong},
		"short log":      {[][]byte{append(make([]byte, 22), ok...)}, func(c *campuscard.Card) error { _, err := c.ReadLog(1); return err }, campuscard.ErrLength},
		"short init":     {[][]byte{append(make([]byte, 15), ok...)}, func(c *campuscard.Card) error { _, err := c.InitializeForLoad(1, 1, term); return err }, campuscard.ErrLength},
		"short TAC":      {[][]byte{{1, 2, 0x90, 0}}, func(c *campuscard.Card) error { _, err := c.CreditForLoad(dt, [4]byte{}); return err }, campuscard.ErrLoadIncomplete},
		"TAC card gone":  {nil, func(c *campuscard.Card) error { _, err := c.CreditForLoad(dt, [4]byte{}); return err }, apdu.ErrCardRemoved},
		"empty UID":      {[][]byte{ok}, func(c *campuscard.Card) error { _, err := c.UID(); return err }, campuscard.ErrLength},
		"garbage":        {[][]byte{{0x12, 0x34}}, func(c *campuscard.Card) error { return c.Select() }, apdu.ErrBadStatus},
	} {
		t.Run(name, func(t *testing.T) {
			s := scripted(tc.resp)
			require.ErrorIs(t, tc.op(campuscard.New(&s)), tc.want)
		})
	}
}
