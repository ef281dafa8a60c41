package reader

import (
	"context"
	"testing"

	"github.com/ebfe/scard"
	"github.com/stretchr/testify/require"

	"ecardgw/cardio/apdu"
)

func noCard(context.Context, ReaderInfo, apdu.Transmitter) {}

func TestConfigValidate(t *testing.T) {
	for name, c := range map[string]Config{
		"no OnCard":   {},
		"bad pattern": {OnCard: noCard, Bindings: []Binding{{Pattern: "[", Role: RoleDesk}}},
		"empty":       {OnCard: noCard, Bindings: []Binding{{Pattern: "", Role: RoleDesk}}},
		"bad role":    {OnCard: noCard, Bindings: []Binding{{Pattern: "x", Role: "kiosk"}}},
	} {
		_, err := New(c)
		require.ErrorIs(t, err, ErrConfig, name)
	}
}

func TestMatch(t *testing.T) {
	c := Config{OnCard: noCard, Bindings: []Binding{
		{Pattern: "Virtual PCD 00 01", Terminal: "SETL0001", Role: RoleSettlement},
		{Pattern: "Virtual PCD *", Terminal: "DESK0001", Role: RoleDesk},
	}}
	require.NoError(t, c.validate())
	info, ok := c.match("Virtual PCD 00 01")
	require.True(t, ok)
	require.Equal(t, ReaderInfo{Name: "Virtual PCD 00 01", Terminal: "SETL0001", Role: RoleSettlement}, info)
	info, ok = c.match("Virtual PCD 00 00")
	require.True(t, ok)
	require.Equal(t, RoleDesk, info.Role)
	_, ok = c.match("ACS ACR122U 00 00")
	require.False(t, ok)

	all := Config{OnCard: noCard}
	info, ok = all.match("anything")
	require.True(t, ok)
	require.Equal(t, RoleDesk, info.Role)
}

func TestFromFlags(t *testing.T) {
	for f, want := range map[scard.StateFlag]ReaderState{
		scard.StateEmpty:                        StateEmpty,
		scard.StatePresent:                      StatePresent,
		scard.StatePresent | scard.StateInuse:   StatePresent,
		scard.StatePresent | scard.StateMute:    StateError,
		scard.StateUnavailable:                  StateAbsent,
		scard.StateUnknown | scard.StateChanged: StateAbsent,
		0:                                       StateError,
	} {
		require.Equal(t, want, fromFlags(f), "flags %#x", f)
	}
	require.Equal(t, "present", StatePresent.String())
}

func TestMapErr(t *testing.T) {
	require.ErrorIs(t, mapErr(scard.ErrRemovedCard), apdu.ErrCardRemoved)
	require.ErrorIs(t, mapErr(scard.ErrNotTransacted), apdu.ErrCardRemoved)
	err := mapErr(scard.ErrInvalidParameter)
	require.NotErrorIs(t, err, apdu.ErrCardRemoved)
	require.ErrorIs(t, err, scard.ErrInvalidParameter)
	require.True(t, serviceLost(scard.ErrNoService))
	require.False(t, serviceLost(scard.ErrTimeout))
}
