package service

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func (f *fixture) blacklistEntries() []string {
	f.t.Helper()
	var out []string
	require.NoError(f.t, f.db.View(func(tx *store.Tx) error {
		_, err := tx.BlacklistSince(0, 1000, func(_ uint32, card string, add bool) error {
			if add {
				out = append(out, "+"+card)
			} else {
				out = append(out, "-"+card)
			}
			return nil
		})
		return err
	}))
	return out
}

func TestLossAndCancel(t *testing.T) {
	f := newFixture(t)
	r := f.call(http.MethodPost, "/v1/accounts/1001/loss", testToken, "", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.JSONEq(t, `{"account":"1001","status":"lost","card":"12******9012","blacklist_version":1,"changed":true,"seq":1}`, string(r.body))
	require.Equal(t, store.StatusLost, f.account(1001).Status)
	require.Equal(t, []string{"+" + cardOK}, f.blacklistEntries())
	require.Equal(t, []uint32{1}, f.blacklistCalls())
	rec := f.lastRecord()
	require.Equal(t, store.KindLoss, rec.Kind)
	require.Equal(t, uint64(1001), rec.Account)
	require.Equal(t, "12******9012", rec.CardMasked)
	require.Equal(t, "API", rec.Key.Terminal)

	// Again: nothing changes, the current state is answered.
	r = f.call(http.MethodPost, "/v1/accounts/1001/loss", testToken, "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, `{"account":"1001","status":"lost","card":"12******9012","blacklist_version":1,"changed":false}`, string(r.body))
	require.Len(t, f.journal(), 1)
	require.Len(t, f.blacklistCalls(), 1)

	r = f.call(http.MethodDelete, "/v1/accounts/1001/loss", testToken, "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, `{"account":"1001","status":"active","card":"12******9012","blacklist_version":2,"changed":true,"seq":2}`, string(r.body))
	require.Equal(t, []string{"+" + cardOK, "-" + cardOK}, f.blacklistEntries())
	require.Equal(t, store.KindLossCancel, f.lastRecord().Kind)
	require.Equal(t, []uint32{1, 2}, f.blacklistCalls())

	r = f.call(http.MethodDelete, "/v1/accounts/1001/loss", testToken, "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, false, r.json(t)["changed"])

	// A frozen account stays frozen; an unknown one is not found.
	r = f.call(http.MethodPost, "/v1/accounts/1003/loss", testToken, "", nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	require.Equal(t, CodeFrozen, r.code(t))
	require.Equal(t, store.StatusFrozen, f.account(1003).Status)
	r = f.call(http.MethodDelete, "/v1/accounts/1003/loss", testToken, "", nil)
	require.Equal(t, CodeFrozen, r.code(t))
	r = f.call(http.MethodPost, "/v1/accounts/4242/loss", testToken, "", nil)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Len(t, f.journal(), 2)

	// The admin view pages the list, card numbers masked.
	r = f.get("/v1/blacklist")
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, `{"version":2,"since":0,"more":false,"next_since":2,"entries":[
		{"version":1,"card":"12******9012","action":"add"},
		{"version":2,"card":"12******9012","action":"remove"}]}`, string(r.body))
	r = f.get("/v1/blacklist?since=2")
	require.JSONEq(t, `{"version":2,"since":2,"more":false,"next_since":2,"entries":[]}`, string(r.body))
}

func TestGetAccount(t *testing.T) {
	f := newFixture(t)
	r := f.get("/v1/accounts/1004")
	require.Equal(t, http.StatusOK, r.status)
	require.JSONEq(t, `{"account":"1004","name":"赵六","status":"active","balance_fen":100,"card":"42******9012",
		"ecard_active":false,"wallet_balance_fen":0,"updated":"`+r.json(t)["updated"].(string)+`"}`, string(r.body))
	r = f.get("/v1/accounts/4242")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, CodeNotFound, r.code(t))
}
