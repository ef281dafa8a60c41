package centre

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// An answer must have one meaning: a field in another case than the
// contract's, or a field twice, is a bad answer (outcome unknown: the
// gateway retries or stands in), never read the way encoding/json would
// (case-insensitively, the last key winning). Unknown fields stay
// allowed: a newer centre may send more.
func TestAnswersHaveOneMeaning(t *testing.T) {
	ctx := context.Background()
	req := AuthRequest{Key: store.IdemKey{Terminal: "T1", STAN: 1, MTI: 200}, Kind: KindPurchase, Card: "100000000001", Amount: 100}
	for _, body := range []string{
		`{"rc":"51","RC":"00","account":1001,"balance_fen":50}`,
		`{"rc":"51","rc":"00","account":1001,"balance_fen":50}`,
		`{"rc":"00","account":1001,"balance_fen":50,"Balance_Fen":999999}`,
		`{"rc":"00","account":1001,"balance_fen":50,"balance\u005ffen":999999}`,
		`{"rc":"00","account":1001,"balance_fen":50} {"rc":"51"}`,
	} {
		res, err := answer(t, 200, body).Authorize(ctx, req)
		require.ErrorIs(t, err, ErrBadAnswer, body)
		require.ErrorIs(t, err, ErrUnreachable, body)
		require.Equal(t, AuthResult{}, res, body)
		require.NotContains(t, err.Error(), "100000000001")
	}

	_, err := answer(t, 200, `{"trade_no":"x","status":"failed","STATUS":"paid"}`).Query(ctx, "x")
	require.ErrorIs(t, err, txn.ErrPayUnreachable)
	_, err = answer(t, 200, `{"results":[{"seq":1,"ok":false,"OK":true}]}`).Deliver(ctx, []store.Record{{Seq: 1}})
	require.ErrorIs(t, err, ErrBadAnswer)
	_, _, err = answer(t, 200, `{"entries":[],"version":1,"version":2}`).Blacklist(ctx, 0)
	require.ErrorIs(t, err, ErrBadAnswer)

	// A newer centre's extra fields are ignored, as the contract says.
	res, err := answer(t, 200, `{"rc":"00","account":1001,"balance_fen":50,"loyalty":{"points":3,"tier":"gold"}}`+"\n").Authorize(ctx, req)
	require.NoError(t, err)
	require.Equal(t, uint64(1001), res.Account)
	require.Equal(t, int64(50), res.BalanceFen)
}
