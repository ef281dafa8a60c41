package metrics

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every gateway metric.
const Namespace = "ecardgw"

// LatencyBuckets are the one set of latency buckets, in seconds, used by
// every duration histogram: from 0.5 ms (a cached answer, a quiet group
// commit) to 5 s (beyond the POS's patience for most requests). Sharing
// them keeps histograms comparable and aggregatable.
var LatencyBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
}

// GroupSizeBuckets are the buckets of the group commit size histogram
// (records per fsync): powers of two up to a large burst.
var GroupSizeBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}

// BuildInfo labels ecardgw_build_info.
type BuildInfo struct {
	Version   string // release version, e.g. "v0.3.0"; "devel" when empty
	Revision  string // VCS revision; "unknown" when empty
	GoVersion string // runtime.Version() when empty
}

// ReadBuildInfo fills a BuildInfo from the binary's embedded build
// information (VCS revision) and the given version string.
func ReadBuildInfo(version string) BuildInfo {
	bi := BuildInfo{Version: version, GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				bi.Revision = s.Value
			}
		}
	}
	return bi
}

// Metrics holds every gateway collector, pre-curried by label value.
// Methods are safe for concurrent use and on a nil receiver.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
	now     func() time.Time // scrape-time clock for the outbox age

	connsOpen   prometheus.Gauge
	connsOpened prometheus.Counter
	connsClosed [numCloseReasons]prometheus.Counter

	requests     [numMTIClasses][numRespCodes]prometheus.Counter
	retransmits  [numMTIClasses]prometheus.Counter
	requestDur   [numMTIClasses]prometheus.Observer
	decodeErrors [numDecodeReasons]prometheus.Counter

	signIns        prometheus.Counter
	macFailures    prometheus.Counter
	sessionsActive prometheus.Gauge

	storeUp     prometheus.Gauge
	commitDur   prometheus.Observer
	commitGroup prometheus.Observer

	outboxRecords prometheus.Gauge
	outboxOldest  atomic.Int64 // unix nanoseconds of the oldest record; 0 when empty

	idemLogged atomic.Pointer[func() int] // WatchIdemLog's source; nil: 0

	deliveries  [numSinks]prometheus.Counter
	retries     [numSinks]prometheus.Counter
	deadLetters [numSinks]prometheus.Counter

	standInApprovals prometheus.Counter
	standInExposure  prometheus.Gauge
	centreState      [numCentreStates]prometheus.Gauge

	campusCodes [numCampusCodeResults]prometheus.Counter
	payments    [numChannels][numPaymentOutcomes]prometheus.Counter

	readers          [numReaderStates]prometheus.Gauge
	blacklistVersion prometheus.Gauge

	payFlow payFlow
}

// New builds the collectors on a fresh registry (with the Go and process
// collectors) and creates every labelled series at zero, so that rate()
// and absent() work from the first scrape and the exposition lists
// everything the gateway can report.
func New(info BuildInfo) *Metrics {
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	if info.GoVersion == "" {
		info.GoVersion = runtime.Version()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &Metrics{reg: reg, now: time.Now}
	f := factory{reg: reg}

	m.newBuildInfo(f, info)
	m.newPOS(f)
	m.newSession(f)
	m.newStore(f)
	m.newForwarder(f)
	m.newCentre(f)
	m.newPayments(f)
	m.newPayFlow(f)

	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		// A broken collector must not hide the others from the scrape.
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// Registry is the gateway's own registry (not the global one).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler { return m.handler }
