package centre

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"ecardgw/gateway/txn"
)

var _ txn.Payments = (*Client)(nil)

// Pay asks the channel, through the centre, to take the amount from the
// scanned payment code. It is idempotent by TradeNo: paying the same trade
// again returns its current state. Errors that leave the outcome unknown
// wrap both ErrUnreachable and txn.ErrPayUnreachable.
func (c *Client) Pay(ctx context.Context, p txn.PayRequest) (txn.PayResult, error) {
	w := WirePayRequest{TradeNo: p.TradeNo, Channel: p.Channel, AuthCode: p.AuthCode,
		Amount: p.Amount, Subject: p.Subject, Terminal: p.Terminal, Account: p.Account}
	return c.payCall(ctx, PathPay, &w)
}

// Query returns the trade's current state (polling "user paying").
func (c *Client) Query(ctx context.Context, tradeNo string) (txn.PayResult, error) {
	return c.payCall(ctx, PathQuery, &WireTradeRequest{TradeNo: tradeNo})
}

// Cancel ends a trade: one still being paid is closed, one already paid is
// given back. Cancelling twice is harmless.
func (c *Client) Cancel(ctx context.Context, tradeNo string) error {
	res, err := c.payCall(ctx, PathCancel, &WireTradeRequest{TradeNo: tradeNo})
	if err != nil {
		return err
	}
	if res.Status != txn.PayCancelled {
		return fmt.Errorf("%w: cancel answered %s", ErrRejected, statusName(res.Status))
	}
	return nil
}

// Refund gives back amount of a paid trade, idempotent by refundNo.
func (c *Client) Refund(ctx context.Context, tradeNo, refundNo string, amount int64) (txn.PayResult, error) {
	return c.payCall(ctx, PathRefund, &WireRefundRequest{TradeNo: tradeNo, RefundNo: refundNo, Amount: amount})
}

func (c *Client) payCall(ctx context.Context, path string, body any) (txn.PayResult, error) {
	var out WirePayResult
	if err := c.call(ctx, c.callTimeout, http.MethodPost, path, body, &out); err != nil {
		if errors.Is(err, ErrUnreachable) {
			err = fmt.Errorf("%w: %w", txn.ErrPayUnreachable, err)
		}
		return txn.PayResult{}, err
	}
	st, ok := ParsePayStatus(out.Status)
	if !ok {
		return txn.PayResult{}, fmt.Errorf("%w: %w: %w: unknown payment status", txn.ErrPayUnreachable, ErrUnreachable, ErrBadAnswer)
	}
	return txn.PayResult{Status: st, ChannelTxn: out.ChannelTxn, Reason: out.Reason}, nil
}

var payStatuses = [...]struct {
	s    txn.PayStatus
	name string
}{
	{txn.PayPaid, PayStatusPaid},
	{txn.PayPaying, PayStatusPaying},
	{txn.PayNotBound, PayStatusNotBound},
	{txn.PayDeclined, PayStatusDeclined},
	{txn.PayCancelled, PayStatusCancelled},
	{txn.PayRefunded, PayStatusRefunded},
}

// ParsePayStatus maps a wire status to txn's.
func ParsePayStatus(s string) (txn.PayStatus, bool) {
	for _, p := range payStatuses {
		if p.name == s {
			return p.s, true
		}
	}
	return 0, false
}

func statusName(s txn.PayStatus) string {
	for _, p := range payStatuses {
		if p.s == s {
			return p.name
		}
	}
	return "unknown"
}

// PayStatusName maps txn's status to the wire.
func PayStatusName(s txn.PayStatus) string { return statusName(s) }
