package refcentre

import (
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/store"
)

func TestSnapshotPaging(t *testing.T) {
	n := centre.SnapshotPage*2 + 37 // three pages
	f := newFixture(t, n, Options{})
	c := ctx(t)
	seen := map[uint64]centre.AccountSnapshot{}
	var last uint64
	ver, err := f.cl.Snapshot(c, 0, func(a centre.AccountSnapshot) error {
		require.Greater(t, a.Version, last, "oldest change first")
		last = a.Version
		seen[a.No] = a
		return nil
	})
	require.NoError(t, err)
	require.Len(t, seen, n)
	require.Equal(t, uint64(n), ver)
	require.Equal(t, centre.AccountSnapshot{No: 7, Name: "Student 7", StaffNo: "S00007", CardNumber: cardOf(7),
		CardSerial: serialOf(7), BalanceFen: 10000, Status: "active", Version: 7}, seen[7])

	// Nothing changed: nothing comes, the version stays.
	again, err := f.cl.Snapshot(c, ver, func(centre.AccountSnapshot) error { t.Fatal("no change expected"); return nil })
	require.NoError(t, err)
	require.Equal(t, ver, again)

	// A debit and a status change come as deltas, each account once.
	_, err = f.cl.Authorize(c, purchase(1, cardOf(3), 100))
	require.NoError(t, err)
	_, err = f.c.SetStatus(900, "frozen")
	require.NoError(t, err)
	_, err = f.cl.Authorize(c, purchase(2, cardOf(3), 100))
	require.NoError(t, err)
	var delta []centre.AccountSnapshot
	next, err := f.cl.Snapshot(c, ver, func(a centre.AccountSnapshot) error { delta = append(delta, a); return nil })
	require.NoError(t, err)
	require.Len(t, delta, 2)
	require.Equal(t, uint64(900), delta[0].No)
	require.Equal(t, "frozen", delta[0].Status)
	require.Equal(t, uint64(3), delta[1].No)
	require.Equal(t, int64(9800), delta[1].BalanceFen)
	require.Equal(t, ver+3, next)
}

func TestBlacklistDeltas(t *testing.T) {
	f := newFixture(t, 3, Options{})
	c := ctx(t)
	entries, more, err := f.cl.Blacklist(c, 0)
	require.NoError(t, err)
	require.False(t, more)
	require.Empty(t, entries)

	for _, card := range []string{cardOf(1), cardOf(2)} {
		_, err := f.c.ReportLoss(card, true)
		require.NoError(t, err)
	}
	v, err := f.c.ReportLoss(cardOf(1), false)
	require.NoError(t, err)
	require.Equal(t, uint32(3), v)
	entries, more, err = f.cl.Blacklist(c, 0)
	require.NoError(t, err)
	require.False(t, more)
	require.Equal(t, []centre.BlacklistEntry{
		{Version: 1, Card: cardOf(1), Add: true},
		{Version: 2, Card: cardOf(2), Add: true},
		{Version: 3, Card: cardOf(1), Add: false},
	}, entries)
	entries, _, err = f.cl.Blacklist(c, 2)
	require.NoError(t, err)
	require.Equal(t, []centre.BlacklistEntry{{Version: 3, Card: cardOf(1), Add: false}}, entries)

	a, _, err := f.c.Account(2)
	require.NoError(t, err)
	require.Equal(t, "lost", a.Status)
	// Status set through the admin endpoint moves the blacklist too.
	_, err = f.c.SetStatus(2, "active")
	require.NoError(t, err)
	entries, _, err = f.cl.Blacklist(c, 3)
	require.NoError(t, err)
	require.Equal(t, []centre.BlacklistEntry{{Version: 4, Card: cardOf(2), Add: false}}, entries)
}

func TestBlacklistPaging(t *testing.T) {
	f := newFixture(t, 1, Options{})
	for i := range centre.MaxPage + 5 {
		_, err := f.c.ReportLoss(cardOf(1), i%2 == 0)
		require.NoError(t, err)
	}
	entries, more, err := f.cl.Blacklist(ctx(t), 0)
	require.NoError(t, err)
	require.True(t, more)
	require.Len(t, entries, centre.MaxPage)
	entries, more, err = f.cl.Blacklist(ctx(t), entries[len(entries)-1].Version)
	require.NoError(t, err)
	require.False(t, more)
	require.Len(t, entries, 5)
}

func TestImportMovesBlacklist(t *testing.T) {
	f := newFixture(t, 2, Options{})
	rows := rowsN(3, 10000)
	rows[1].Status = store.StatusLost // existing account 2 reported lost
	rows[2].Status = store.StatusLost // new account 3, lost from the start
	created, updated, err := f.c.Import(rows)
	require.NoError(t, err)
	require.Equal(t, 1, created)
	require.Equal(t, 1, updated)
	rows[1].Status = store.StatusActive
	_, _, err = f.c.Import(rows)
	require.NoError(t, err)
	entries, _, err := f.cl.Blacklist(ctx(t), 0)
	require.NoError(t, err)
	require.Equal(t, []centre.BlacklistEntry{
		{Version: 1, Card: cardOf(2), Add: true},
		{Version: 2, Card: cardOf(3), Add: true},
		{Version: 3, Card: cardOf(2), Add: false},
	}, entries)
	_, _, err = f.c.Import(rows)
	require.NoError(t, err)
	entries, _, err = f.cl.Blacklist(ctx(t), 3)
	require.NoError(t, err)
	require.Empty(t, entries, "importing the same list again changes nothing")
}
