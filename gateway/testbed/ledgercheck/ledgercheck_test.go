package ledgercheck

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// fatalTB records the first Fatalf and stops the helper as the testing
// package would.
type fatalTB struct {
	testing.TB
	msg string
}

type stopped struct{}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func failure(tb *fatalTB, fn func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopped); !ok {
				panic(r)
			}
			msg = tb.msg
		}
	}()
	fn()
	return ""
}

func TestBalancesEqualAndDiverged(t *testing.T) {
	rows := []store.Account{
		{No: 1, Name: "A", CardNumber: "100000000001", BalanceFen: 10000, Status: store.StatusActive},
		{No: 2, Name: "B", CardNumber: "100000000002", BalanceFen: 500, Status: store.StatusActive},
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, _, err = db.ImportAccounts(context.Background(), rows)
	require.NoError(t, err)
	c, err := refcentre.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, _, err = c.Import(rows)
	require.NoError(t, err)

	s, err := Compare(db, c)
	require.NoError(t, err)
	require.True(t, s.OK(), s.String())
	RequireBalancesEqual(t, db, c, time.Second)

	require.NoError(t, db.Update(context.Background(), func(tx *store.Tx) error {
		a, _, err := tx.Account(2)
		if err != nil {
			return err
		}
		a.BalanceFen -= 1
		if err := tx.PutAccount(&a); err != nil {
			return err
		}
		_, err = tx.AppendJournal(&store.Record{Time: time.Now().UTC(), Key: store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: 1, MTI: 200},
			Kind: store.KindPurchase, Account: 2, Amount: 1, Resp: "00"})
		return err
	}))
	s, err = Compare(db, c)
	require.NoError(t, err)
	require.False(t, s.OK())
	require.Equal(t, 1, s.Backlog)
	require.Len(t, s.Differences, 1)
	require.Equal(t, "balance  account 2: gateway 4.99, centre 5.00, difference -0.01", s.Differences[0].String())

	tb := &fatalTB{TB: t}
	msg := failure(tb, func() { RequireBalancesEqual(tb, db, c, 300*time.Millisecond) })
	require.True(t, strings.HasPrefix(msg, "ledgercheck: the gateway and the centre still differ after 300ms: 1 records not yet delivered, 1 differences"), msg)
	require.Contains(t, msg, "account 2")
}
