package centre

import (
	"context"
	"errors"
	"fmt"

	"ecardgw/gateway/txn"
)

// TxnCentre adapts a Client to the engine's txn.Centre interface (txn
// cannot import this package: the client implements txn.Payments). An
// error that leaves the outcome unknown also wraps
// txn.ErrCentreUnreachable, so the engine stands in.
type TxnCentre struct{ *Client }

var _ txn.Centre = TxnCentre{}

// Authorize implements txn.Centre.
func (t TxnCentre) Authorize(ctx context.Context, r txn.AuthRequest) (txn.AuthResult, error) {
	res, err := t.Client.Authorize(ctx, AuthRequest(r))
	if errors.Is(err, ErrUnreachable) {
		err = fmt.Errorf("%w: %w", txn.ErrCentreUnreachable, err)
	}
	return txn.AuthResult(res), err
}
