package loadgen

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Hard bounds: a run never exceeds these whatever the caller asks.
const (
	MaxConns    = 10000
	MaxDuration = 10 * time.Minute
	MaxPipeline = 256
)

// Config describes one run. Either Duration or Requests (or both) must be
// set; the run stops at whichever comes first, or when ctx ends.
type Config struct {
	Addr     string        // host:port; the host must be a loopback IP or "localhost"
	Conns    int           // concurrent connections (each its own goroutine)
	Duration time.Duration // length of the timed phase, at most MaxDuration
	Requests int64         // total requests over all connections; 0: no limit but Duration
	Pipeline int           // requests outstanding per connection; default 1 (strict closed loop)

	// Next appends request number seq (0, 1, ... per connection) for
	// connection conn to dst and returns it: one complete frame, LEN
	// included. Required. Called from that connection's goroutine only.
	Next func(conn int, seq uint64, dst []byte) []byte
	// Scheduled, if set, is when request seq of conn was due (a paced
	// load); its latency is measured from then, so a gateway that falls
	// behind shows the wait its terminals see. Unset: from the moment
	// Next returned it, just before the write.
	Scheduled func(conn int, seq uint64) time.Time
	// Check judges an answer (LEN included; valid only during the call).
	// A non-nil error counts in Result.Errors; the run goes on. Optional.
	Check func(conn int, answer []byte) error
	// Setup runs on each fresh connection before the timed phase (e.g. a
	// sign-in); its error drops that connection. Optional.
	Setup func(conn int, c net.Conn) error

	MaxFrame    int           // largest answer LEN accepted; default 65535
	DialTimeout time.Duration // default 5 s
	IOTimeout   time.Duration // per read/write; default 10 s
}

func (c *Config) withDefaults() (Config, error) {
	v := *c
	if v.Pipeline == 0 {
		v.Pipeline = 1
	}
	if v.MaxFrame == 0 {
		v.MaxFrame = 0xFFFF
	}
	if v.DialTimeout == 0 {
		v.DialTimeout = 5 * time.Second
	}
	if v.IOTimeout == 0 {
		v.IOTimeout = 10 * time.Second
	}
	switch {
	case v.Next == nil:
		return v, fmt.Errorf("%w: Next is required", ErrConfig)
	case v.Conns < 1 || v.Conns > MaxConns:
		return v, fmt.Errorf("%w: Conns %d out of 1..%d", ErrConfig, v.Conns, MaxConns)
	case v.Duration < 0 || v.Duration > MaxDuration:
		return v, fmt.Errorf("%w: Duration %v out of 0..%v", ErrConfig, v.Duration, MaxDuration)
	case v.Requests < 0:
		return v, fmt.Errorf("%w: negative Requests", ErrConfig)
	case v.Duration == 0 && v.Requests == 0:
		return v, fmt.Errorf("%w: set Duration or Requests", ErrConfig)
	case v.Pipeline < 1 || v.Pipeline > MaxPipeline:
		return v, fmt.Errorf("%w: Pipeline %d out of 1..%d", ErrConfig, v.Pipeline, MaxPipeline)
	case v.MaxFrame < 1 || v.MaxFrame > 0xFFFF:
		return v, fmt.Errorf("%w: MaxFrame %d out of 1..65535", ErrConfig, v.MaxFrame)
	}
	if v.Duration == 0 {
		// Requests alone still gets a time bound.
		v.Duration = MaxDuration
	}
	return v, checkLoopback(v.Addr)
}

// checkLoopback refuses anything but a literal loopback IP or localhost,
// without a DNS lookup that could point elsewhere.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q", ErrNotLoopback, host)
	}
	return nil
}
