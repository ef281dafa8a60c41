package refcentre

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/store"
)

// BenchmarkAuthorizeParallel: online purchases through the client and
// HTTP, many at once (they share fsyncs through the ledger's batches).
func BenchmarkAuthorizeParallel(b *testing.B) {
	c, err := Open(b.TempDir())
	require.NoError(b, err)
	defer c.Close()
	_, _, err = c.Import(rowsN(64, 1<<40))
	require.NoError(b, err)
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	cl, err := centre.New(centre.Options{URL: srv.URL})
	require.NoError(b, err)
	defer cl.Close()
	var stan atomic.Uint32
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := stan.Add(1)
			r, err := cl.Authorize(context.Background(), centre.AuthRequest{
				Key:  store.IdemKey{Terminal: "T0000001", Batch: s / 1000000, STAN: s % 1000000, MTI: 200},
				Kind: centre.KindPurchase, Account: uint64(1 + s%64), Amount: 1, Time: time.Now()})
			if err != nil || r.RC != "00" {
				// Not b.Fatal: RunParallel's body runs on its own
				// goroutines, and FailNow must run on the benchmark's.
				b.Error(err, r.RC)
				return
			}
		}
	})
}
