package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// touchAll calls every method with every label value so that every series
// the gateway can report exists with a non-zero sample.
func touchAll(m *Metrics) {
	m.ConnOpened()
	for r := range numCloseReasons {
		m.ConnOpened()
		m.ConnClosed(r)
	}
	for c := range numMTIClasses {
		for rc := range numRespCodes {
			m.Request(c, rc, 3*time.Millisecond)
		}
		m.Retransmission(c)
	}
	for r := range numDecodeReasons {
		m.DecodeError(r)
	}
	m.SignIn()
	m.MACFailure()
	m.SetSessionsActive(3)
	m.SetStoreUp(true)
	m.JournalCommit(2*time.Millisecond, 7)
	m.SetOutbox(5, time.Now().Add(-time.Minute))
	for s := range numSinks {
		m.ForwarderDelivered(s, 2)
		m.ForwarderRetry(s)
		m.ForwarderDeadLetter(s)
	}
	m.SetCentreState(CentreReachable)
	m.StandInApproval()
	m.SetStandInExposure(12345)
	for r := range numCampusCodeResults {
		m.CampusCode(r)
	}
	for c := range numChannels {
		for o := range numPaymentOutcomes {
			m.Payment(c, o)
		}
	}
	for s := range numReaderStates {
		m.SetReaders(s, 1)
	}
	m.SetBlacklistVersion(42)
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(body)
}

func TestBuildInfo(t *testing.T) {
	m := New(BuildInfo{Version: "v1.2.3", Revision: "abc"})
	out := scrape(t, m)
	require.Regexp(t, `ecardgw_build_info\{goversion="go[^"]+",revision="abc",version="v1\.2\.3"\} 1`, out)
	require.Contains(t, out, "go_goroutines")
	require.Contains(t, out, "process_open_fds")

	m = New(BuildInfo{})
	require.Contains(t, scrape(t, m), `revision="unknown",version="devel"`)
}

func TestOwnRegistry(t *testing.T) {
	a, b := New(BuildInfo{}), New(BuildInfo{})
	a.SignIn()
	require.InDelta(t, 1, testutil.ToFloat64(a.signIns), 0)
	require.InDelta(t, 0, testutil.ToFloat64(b.signIns), 0)
}

func TestRequestAndConnections(t *testing.T) {
	m := New(BuildInfo{})
	m.ConnOpened()
	m.ConnOpened()
	m.ConnClosed(CloseIdle)
	m.Request(ClassifyMTI(200), ClassifyRespCode([]byte("51")), 10*time.Millisecond)
	m.Request(ClassifyMTI(200), ClassifyRespCode([]byte("zz")), time.Millisecond)
	m.Request(MTIClass(200), RespCode(200), time.Millisecond) // out of range: other

	require.InDelta(t, 1, testutil.ToFloat64(m.connsOpen), 0)
	require.InDelta(t, 2, testutil.ToFloat64(m.connsOpened), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.connsClosed[CloseIdle]), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.requests[MTI0200][RC51]), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.requests[MTI0200][RCOther]), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.requests[MTIOther][RCOther]), 0)

	out := scrape(t, m)
	require.Contains(t, out, `ecardgw_pos_requests_total{code="51",mti="0200"} 1`)
	require.Contains(t, out, `ecardgw_pos_request_duration_seconds_count{mti="0200"} 2`)
	require.Contains(t, out, `ecardgw_pos_request_duration_seconds_bucket{mti="0200",le="0.01"} 2`)
}

func TestOutboxAgeAtScrapeTime(t *testing.T) {
	m := New(BuildInfo{})
	now := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	require.Zero(t, m.outboxAge())

	m.SetOutbox(3, now.Add(-90*time.Second))
	require.InDelta(t, 90, m.outboxAge(), 1e-9)
	now = now.Add(30 * time.Second) // nobody calls SetOutbox: the age still grows
	require.InDelta(t, 120, m.outboxAge(), 1e-9)

	m.SetOutbox(1, now.Add(time.Hour)) // clock stepped back
	require.Zero(t, m.outboxAge())
	m.SetOutbox(0, now.Add(-time.Hour))
	require.Zero(t, m.outboxAge())
	require.Contains(t, scrape(t, m), "ecardgw_outbox_records 0\n")
}

func TestCentreStateOneHot(t *testing.T) {
	m := New(BuildInfo{})
	require.InDelta(t, 1, testutil.ToFloat64(m.centreState[CentreStandalone]), 0)
	m.SetCentreState(CentreUnreachable)
	require.InDelta(t, 0, testutil.ToFloat64(m.centreState[CentreStandalone]), 0)
	require.InDelta(t, 0, testutil.ToFloat64(m.centreState[CentreReachable]), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.centreState[CentreUnreachable]), 0)
	m.SetCentreState(CentreState(99))
	require.InDelta(t, 1, testutil.ToFloat64(m.centreState[CentreUnreachable]), 0)
}

func TestStandInExposureInYuan(t *testing.T) {
	m := New(BuildInfo{})
	m.SetStandInExposure(20050)
	require.InDelta(t, 200.50, testutil.ToFloat64(m.standInExposure), 1e-9)
	require.Contains(t, scrape(t, m), "ecardgw_standin_exposure_yuan 200.5\n")
}

func TestForwarderAndGauges(t *testing.T) {
	m := New(BuildInfo{})
	m.ForwarderDelivered(SinkJetStream, 10)
	m.ForwarderDelivered(SinkJetStream, 0)
	m.ForwarderDelivered(Sink(9), 1)
	m.SetStoreUp(true)
	m.SetStoreUp(false)
	m.SetBlacklistVersion(7)
	m.SetReaders(ReaderPresent, 2)
	m.JournalCommit(time.Millisecond, 12)
	require.InDelta(t, 10, testutil.ToFloat64(m.deliveries[SinkJetStream]), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.deliveries[SinkOther]), 0)
	require.InDelta(t, 0, testutil.ToFloat64(m.storeUp), 0)
	require.InDelta(t, 7, testutil.ToFloat64(m.blacklistVersion), 0)
	require.InDelta(t, 2, testutil.ToFloat64(m.readers[ReaderPresent]), 0)
	require.Contains(t, scrape(t, m), `ecardgw_store_commit_group_size_bucket{le="16"} 1`)
}

func TestNilMetricsIsNoOp(t *testing.T) {
	var m *Metrics
	require.NotPanics(t, func() { touchAll(m) })
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	m := New(BuildInfo{})
	code := []byte("00")
	ch := []byte("WECHAT")
	allocs := testing.AllocsPerRun(1000, func() {
		m.Request(ClassifyMTI(200), ClassifyRespCode(code), time.Millisecond)
		m.Retransmission(ClassifyMTI(200))
		m.Payment(ClassifyChannel(ch), PaymentApproved)
		m.CampusCode(CampusCodeOK)
		m.JournalCommit(time.Millisecond, 4)
		m.ConnOpened()
		m.ConnClosed(CloseEOF)
	})
	require.Zero(t, allocs)
}

func TestEverySeriesExists(t *testing.T) {
	m := New(BuildInfo{})
	out := scrape(t, m)
	// Labelled series exist at zero before anything happens.
	for _, s := range []string{
		`ecardgw_pos_connections_closed_total{reason="slow_reader"} 0`,
		`ecardgw_pos_requests_total{code="Q6",mti="0820"} 0`,
		`ecardgw_pos_retransmissions_total{mti="0400"} 0`,
		`ecardgw_campuscode_verifications_total{result="replay"} 0`,
		`ecardgw_payment_results_total{channel="unionpay",outcome="timed_out"} 0`,
		`ecardgw_centre_state{state="standalone"} 1`,
	} {
		require.True(t, strings.Contains(out, s), s)
	}
}

func TestReadBuildInfo(t *testing.T) {
	bi := ReadBuildInfo("v2.0.0")
	require.Equal(t, "v2.0.0", bi.Version)
	require.Equal(t, runtime.Version(), bi.GoVersion)
	m := New(bi)
	require.Contains(t, scrape(t, m), `version="v2.0.0"`)
}

// The idempotency-log gauge reads its source at scrape time: 0 before the
// daemon sets one.
func TestIdemLogGaugeReadsItsSource(t *testing.T) {
	m := New(BuildInfo{})
	require.Contains(t, scrape(t, m), "ecardgw_store_idempotency_log_values 0\n")
	n := 41000
	m.WatchIdemLog(func() int { return n })
	require.Contains(t, scrape(t, m), "ecardgw_store_idempotency_log_values 41000\n")
	n = 12
	require.Contains(t, scrape(t, m), "ecardgw_store_idempotency_log_values 12\n")
}
