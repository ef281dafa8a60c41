package server

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/testbed/baseline"
	"ecardgw/gateway/testbed/loadgen"
)

// echoLoad drives 100 closed-loop connections (one request in flight each,
// like terminals) against addr for b.N requests and reports req/s.
func echoLoad(b *testing.B, addr string) {
	b.Helper()
	next := func(_ int, seq uint64, dst []byte) []byte {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(testHead)+8))
		dst = append(dst, testHead...)
		return binary.BigEndian.AppendUint64(dst, seq)
	}
	b.ReportAllocs()
	b.ResetTimer()
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Addr: addr, Conns: 100, Requests: int64(max(b.N, 100)), Next: next,
	})
	b.StopTimer()
	require.NoError(b, err)
	require.Zero(b, res.Errors, "first error: %v", res.FirstError)
	b.ReportMetric(res.Throughput, "req/s")
	b.ReportMetric(float64(res.P99.Microseconds()), "p99-µs")
}

func BenchmarkBaselineEcho100(b *testing.B) {
	s, err := baseline.Start("127.0.0.1:0", false)
	require.NoError(b, err)
	defer s.Stop()
	echoLoad(b, s.Addr().String())
}

func BenchmarkServerEcho100(b *testing.B) {
	s := start(b, echo(), Options{})
	echoLoad(b, s.Addr().String())
}

// BenchmarkServerEcho100Budget is BenchmarkServerEcho100 with a buffer
// budget, as the gateway runs (server.buffer_budget_mb): every request
// reserves and returns its charge.
func BenchmarkServerEcho100Budget(b *testing.B) {
	s := start(b, echo(), Options{BufferBudget: 256 << 20})
	echoLoad(b, s.Addr().String())
}
