package service

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// encoding/json matches field names without regard to case and lets the
// last of two equal keys win, so {"amount_fen":1,"AMOUNT_FEN":500} used to
// credit 500 to a request a front end had checked as 1. Field names must
// now be exactly as documented, each at most once.
func TestJSONFieldNamesAreExact(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ name, path, body, msg string }{
		{"case variant after", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"AMOUNT_FEN":500,"account":"1001"}`,
			`field "AMOUNT_FEN" must be spelled "amount_fen"`},
		{"case variant alone", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","Amount_Fen":500,"account":"1001"}`,
			`field "Amount_Fen" must be spelled "amount_fen"`},
		{"payee by case", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"account":"1004","ACCOUNT":"1001"}`,
			`must be spelled "account"`},
		{"long s folds to s", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"name":"Li","ſtaff_no":"2026001"}`,
			`must be spelled "staff_no"`},
		{"duplicate", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"amount_fen":500,"account":"1001"}`,
			`field "amount_fen" appears twice`},
		{"duplicate escaped", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"amount\u005ffen":500,"account":"1001"}`,
			`field "amount_fen" appears twice`},
		{"duplicate payee", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"account":"1004","account":"1001"}`,
			`field "account" appears twice`},
		{"trailing garbage", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"account":"1001"} x`,
			"trailing data"},
		{"trailing value", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"account":"1001"} 5`,
			"trailing data"},
		{"fee case variant", "/v1/fees", `{"request_id":"F-CASE","account":"1001","type":"net","target":"NET:1","amount_fen":1,"AMOUNT_fen":9000}`,
			`field "AMOUNT_fen" must be spelled "amount_fen"`},
		{"fee duplicate", "/v1/fees", `{"request_id":"F-CASE","account":"1001","type":"net","target":"NET:1","amount_fen":1,"amount_fen":9000}`,
			`field "amount_fen" appears twice`},
		{"fee target by case", "/v1/fees", `{"request_id":"F-CASE","account":"1001","type":"net","target":"NET:1","Target":"NET:2","amount_fen":1}`,
			`must be spelled "target"`},
		{"duplicate card number", "/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"card_number":"123456789012","card_number":"000000100001"}`,
			`field "card_number" appears twice`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := f.postJSON(c.path, c.body)
			require.Equal(t, http.StatusBadRequest, r.status, string(r.body))
			require.Equal(t, CodeBadRequest, r.code(t))
			require.Contains(t, r.json(t)["message"], c.msg)
			require.False(t, cardLike.Match(r.body), "the answer quotes a card-like number: %s", r.body)
		})
	}
	require.Equal(t, int64(10000), f.account(1001).BalanceFen, "nothing credited or debited")
	require.Equal(t, int64(100), f.account(1004).BalanceFen)
	require.Empty(t, f.journal())

	// A refused body is not an outcome: the trade number is still free,
	// and the well-formed request does what it says.
	r := f.postJSON("/v1/topups", `{"trade_no":"W-CASE","channel":"wechat","amount_fen":1,"account":"1001"}`)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Empty(t, r.header.Get("Idempotent-Replayed"))
	require.Equal(t, int64(10001), f.account(1001).BalanceFen)
	r = f.postJSON("/v1/fees", `{"request_id":"F-CASE","account":"1001","type":"net","target":"NET:1","amount_fen":1}`)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, int64(10000), f.account(1001).BalanceFen)
}
