package centre

import (
	"context"
	"fmt"
	"net/http"

	"ecardgw/store"
)

// DeliveryResult is the centre's verdict on one record. OK: stored (or
// already held: a duplicate by key is OK); Applied as well when the
// record changed the centre's ledger. Not OK and Permanent: refused for
// good, with Reason; not OK and not Permanent: try again later.
type DeliveryResult struct {
	Seq       uint64
	OK        bool
	Applied   bool
	Permanent bool
	Reason    string
}

// Deliver sends a batch of journal records (at most MaxDelivery) and
// returns one result per record, in order. The centre deduplicates by
// each record's Key, so sending a batch again after an unknown outcome is
// safe.
func (c *Client) Deliver(ctx context.Context, recs []store.Record) ([]DeliveryResult, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	if len(recs) > MaxDelivery {
		return nil, fmt.Errorf("%w: %d records in one batch, at most %d", ErrRejected, len(recs), MaxDelivery)
	}
	body := WireRecords{Records: make([]WireRecord, len(recs))}
	for i := range recs {
		body.Records[i] = ToWireRecord(&recs[i])
	}
	var out WireDeliveryResults
	if err := c.call(ctx, c.callTimeout, http.MethodPost, PathRecords, &body, &out); err != nil {
		return nil, err
	}
	if len(out.Results) != len(recs) {
		return nil, fmt.Errorf("%w: %w: %d results for %d records", ErrUnreachable, ErrBadAnswer, len(out.Results), len(recs))
	}
	res := make([]DeliveryResult, len(recs))
	for i, r := range out.Results {
		if r.Seq != recs[i].Seq {
			return nil, fmt.Errorf("%w: %w: results out of order", ErrUnreachable, ErrBadAnswer)
		}
		res[i] = DeliveryResult(r)
	}
	return res, nil
}
