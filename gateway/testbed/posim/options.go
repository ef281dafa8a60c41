package posim

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

const (
	// MaxTerminals bounds a run: a load tool must not exhaust the machine.
	MaxTerminals = 20_000
	// MaxDuration bounds a run's timed phase.
	MaxDuration = 10 * time.Minute
	// DefaultTimeout is how long one request waits for its answer.
	DefaultTimeout = 10 * time.Second
)

// Options shape one run.
type Options struct {
	Terminals int           // simulated terminals, 1..MaxTerminals
	Mix       Mix           // what they send
	Think     time.Duration // 0: closed loop; otherwise per-terminal pacing
	Duration  time.Duration // timed phase; 0 with Count: until Count (at most MaxDuration)
	Count     int64         // total requests; 0: until Duration
	Amount    int64         // fen per purchase (default 1, so long runs never drain accounts)
	Timeout   time.Duration // per request (default DefaultTimeout)
	// SetupParallel bounds concurrent dials and sign-ins (default 64): ten
	// thousand terminals signing in at once would measure the accept queue.
	SetupParallel int
	// Raw: no sign-in, no checks, any answer frame is fine (the bare echo
	// baseline echoes the request itself).
	Raw bool
	// Progress receives the live line once a second (nil: none); TTY says
	// whether to rewrite one line with \r.
	Progress io.Writer
	TTY      bool
	// OnStart, if set, is called once every terminal is set up, just
	// before the timed phase (to read a gateway's counters at its start).
	OnStart func()
	// Seed makes the mix and payment codes reproducible (0: from the clock).
	Seed uint64
}

func (o Options) withDefaults() (Options, error) {
	if o.Amount <= 0 {
		o.Amount = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.SetupParallel <= 0 {
		o.SetupParallel = 64
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	switch {
	case o.Terminals < 1 || o.Terminals > MaxTerminals:
		return o, fmt.Errorf("%w: terminals %d out of 1..%d", ErrLimit, o.Terminals, MaxTerminals)
	case o.Duration < 0 || o.Duration > MaxDuration:
		return o, fmt.Errorf("%w: duration %v out of 0..%v", ErrLimit, o.Duration, MaxDuration)
	case o.Count < 0:
		return o, fmt.Errorf("%w: negative count", ErrLimit)
	case o.Duration == 0 && o.Count == 0:
		return o, fmt.Errorf("%w: give a duration or a count", ErrLimit)
	case o.Think < 0:
		return o, fmt.Errorf("%w: negative think time", ErrLimit)
	case o.Mix.Total() == 0:
		return o, fmt.Errorf("%w: empty mix", ErrMix)
	}
	if o.Duration == 0 {
		o.Duration = MaxDuration
	}
	return o, nil
}

// CheckLoopback refuses any address whose host is not a loopback IP or
// "localhost".
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %v", ErrNotLoopback, addr, err)
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
