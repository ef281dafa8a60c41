package posim

import (
	"context"
	"io"
	"time"

	"ecardgw/gateway/testbed/baseline"
)

// RunBaseline starts the bare gnet length-prefixed echo server in this
// process and drives it closed loop with terminals connections for d,
// sending the same echo-test frames a terminal sends (no sign-in, no
// MAC): the event-loop limit of this machine, to divide gateway figures
// by. A think > 0 paces it like a gateway run instead.
func RunBaseline(ctx context.Context, terminals int, d, think time.Duration, progress io.Writer, tty bool) (*Result, error) {
	srv, err := baseline.Start("127.0.0.1:0", true)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	return Run(ctx, &Fleet{Addr: srv.Addr().String()}, Options{
		Terminals: terminals, Mix: Mix{KindEcho: 1}, Duration: d, Think: think, Raw: true,
		Progress: progress, TTY: tty,
	})
}

// WithBaseline attaches a baseline result and the gateway/baseline
// throughput ratio to r.
func (r *Result) WithBaseline(b *Result) {
	r.Baseline = b
	if b != nil && b.Throughput > 0 {
		r.Ratio = r.Throughput / b.Throughput
	}
}
