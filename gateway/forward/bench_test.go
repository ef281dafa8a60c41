package forward

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// batchOf makes batch b of n records with keys unique across batches, so
// that the receiver stores every one instead of dropping duplicates.
func batchOf(b, n int) []store.Record {
	recs := make([]store.Record, n)
	for i := range recs {
		recs[i] = standIn(i+1, 4)
		recs[i].Seq = uint64(b*n + i + 1)
		recs[i].Key.Batch = uint32(b + 1)
	}
	return recs
}

func BenchmarkNATSSinkDeliver100(b *testing.B) {
	srv := startNATS(b)
	ctx := context.Background()
	sink, err := NewNATSSink(ctx, NATSOptions{URL: srv.URL(), Stream: "BENCH", Subject: "bench.records", Duplicates: time.Minute})
	require.NoError(b, err)
	defer sink.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		res, err := sink.Deliver(ctx, batchOf(i, 100))
		if err != nil || !res[99].OK {
			b.Fatal(err, res[99].Reason)
		}
		i++
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkHTTPSinkDeliver100(b *testing.B) {
	c, err := refcentre.Open(b.TempDir())
	require.NoError(b, err)
	defer c.Close()
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	cl, err := centre.New(centre.Options{URL: srv.URL})
	require.NoError(b, err)
	sink := NewHTTPSink(cl)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := sink.Deliver(ctx, batchOf(i, 100)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}
