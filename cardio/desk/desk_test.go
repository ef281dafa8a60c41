package desk_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/desk"
	"ecardgw/cardio/vcard"
)

var master = [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}

func TestReadCard(t *testing.T) {
	cfg := vcard.DemoConfig(master)
	cfg.Counter = 7
	v, err := vcard.New(cfg)
	require.NoError(t, err)
	require.NoError(t, v.Spend(25))

	d, err := desk.ReadCard(v)
	require.NoError(t, err)
	require.Equal(t, "202601234567", d.Info.CardNumber())
	require.Equal(t, []byte{0x04, 0xA1, 0xB2, 0xC3}, d.UID)
	require.Equal(t, uint64(10000042), d.Holder.Account)
	require.Equal(t, int64(325), d.Balance)
	require.True(t, d.CounterKnown)
	require.Equal(t, uint16(7), d.Counter)

	// Reading changed nothing on the card.
	require.Equal(t, int64(325), v.Balance())
	require.Equal(t, uint16(7), v.Counter())
	require.Len(t, v.Log(), 1)
}

func TestReadCardWithoutLoadKey(t *testing.T) {
	cfg := vcard.DemoConfig(master)
	cfg.KeyIndex = 2
	v, err := vcard.New(cfg)
	require.NoError(t, err)
	d, err := desk.ReadCard(v)
	require.NoError(t, err)
	require.False(t, d.CounterKnown)
}

// filter answers some commands itself, as a reader or another card would.
type filter struct {
	inner apdu.Transmitter
	uidSW []byte // answer to FF CA, nil: pass through
	noApp bool   // SELECT answers 6A82
}

func (f filter) Transmit(cmd []byte) ([]byte, error) {
	if cmd[0] == 0xFF && f.uidSW != nil {
		return f.uidSW, nil
	}
	if cmd[1] == 0xA4 && f.noApp {
		return []byte{0x6A, 0x82}, nil
	}
	return f.inner.Transmit(cmd)
}

func TestReadCardReaderWithoutUID(t *testing.T) {
	v, err := vcard.New(vcard.DemoConfig(master))
	require.NoError(t, err)
	d, err := desk.ReadCard(filter{inner: v, uidSW: []byte{0x6A, 0x81}})
	require.NoError(t, err)
	require.Nil(t, d.UID)
	require.Equal(t, int64(350), d.Balance)
}

func TestReadCardNotCampus(t *testing.T) {
	v, err := vcard.New(vcard.DemoConfig(master))
	require.NoError(t, err)
	_, err = desk.ReadCard(filter{inner: v, noApp: true})
	require.ErrorIs(t, err, desk.ErrNotCampusCard)
}

type gone struct{}

func (gone) Transmit([]byte) ([]byte, error) { return nil, apdu.ErrCardRemoved }

func TestReadCardGone(t *testing.T) {
	_, err := desk.ReadCard(gone{})
	require.ErrorIs(t, err, apdu.ErrCardRemoved)
}
