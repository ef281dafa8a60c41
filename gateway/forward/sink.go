package forward

import (
	"context"
	"errors"
	"fmt"

	"ecardgw/gateway/centre"
	"ecardgw/metrics"
	"ecardgw/store"
)

// Result is a sink's verdict on one record: OK (stored, or a duplicate),
// Permanent (refused for good, with Reason), or neither (try again).
type Result = centre.DeliveryResult

// Sink is where records go. Deliver returns one Result per record, in
// order, or an error when the attempt as a whole failed. It must be safe
// to call again with records already delivered: sinks deduplicate by the
// record's idempotency key. To keep per-account order, a sink that answers
// "try again" for a record must not store the records after it in the
// batch (it answers "try again" for them too).
type Sink interface {
	// Name identifies the sink in dead letters and logs.
	Name() string
	// Metric is the sink's label in the forwarder metrics.
	Metric() metrics.Sink
	Deliver(ctx context.Context, recs []store.Record) ([]Result, error)
}

// HTTPSink delivers to the centre's record interface.
type HTTPSink struct{ c *centre.Client }

var _ Sink = (*HTTPSink)(nil)

// NewHTTPSink wraps a centre client.
func NewHTTPSink(c *centre.Client) *HTTPSink { return &HTTPSink{c: c} }

// Name implements Sink.
func (*HTTPSink) Name() string { return "centre" }

// Metric implements Sink.
func (*HTTPSink) Metric() metrics.Sink { return metrics.SinkCentre }

// Deliver implements Sink.
func (s *HTTPSink) Deliver(ctx context.Context, recs []store.Record) ([]Result, error) {
	res, err := s.c.Deliver(ctx, recs)
	if errors.Is(err, centre.ErrRejected) {
		return nil, fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	return res, err
}
