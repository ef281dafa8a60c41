package refcentre

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/store"
)

func cardOf(i int) string   { return fmt.Sprintf("%012d", 100000000000+i) }
func serialOf(i int) string { return "10000000" + cardOf(i) }

func rowsN(n int, balance int64) []store.Account {
	rows := make([]store.Account, n)
	for i := range rows {
		rows[i] = store.Account{No: uint64(i + 1), Name: fmt.Sprintf("Student %d", i+1),
			StaffNo: fmt.Sprintf("S%05d", i+1), CardNumber: cardOf(i + 1), CardSerial: serialOf(i + 1),
			BalanceFen: balance, Status: store.StatusActive}
	}
	return rows
}

type fixture struct {
	c   *Centre
	srv *httptest.Server
	cl  *centre.Client
}

// newFixture opens a centre with n accounts of 100.00 behind an httptest
// server and a client to it.
func newFixture(t *testing.T, n int, o Options) *fixture {
	t.Helper()
	c, err := OpenOptions(t.TempDir(), o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	_, _, err = c.Import(rowsN(n, 10000))
	require.NoError(t, err)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	cl, err := centre.New(centre.Options{URL: srv.URL, Timeout: time.Second, CallTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return &fixture{c: c, srv: srv, cl: cl}
}

func (f *fixture) balance(t *testing.T, no uint64) int64 {
	t.Helper()
	a, ok, err := f.c.Account(no)
	require.NoError(t, err)
	require.True(t, ok)
	return a.BalanceFen
}

func key(stan uint32) store.IdemKey {
	return store.IdemKey{Terminal: "T0000001", Batch: 1, STAN: stan, MTI: 200}
}

func purchase(stan uint32, card string, amount int64) centre.AuthRequest {
	return centre.AuthRequest{Key: key(stan), Kind: centre.KindPurchase, Card: card, Amount: amount,
		Channel: store.ChannelCampus, Time: time.Now(), Terminal: "T0000001", Merchant: "M00000000000001"}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}
