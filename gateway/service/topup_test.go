package service

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/paychan"
	"ecardgw/store"
)

func topUpBody(trade string, amount int64, payee string) string {
	return fmt.Sprintf(`{"trade_no":%q,"channel":"wechat","amount_fen":%d,%s}`, trade, amount, payee)
}

func TestTopUpCreditsOnceByTradeNo(t *testing.T) {
	f := newFixture(t)
	r := f.postJSON("/v1/topups", topUpBody("4200000001", 5000, `"account":"1001"`))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.JSONEq(t, `{"trade_no":"4200000001","channel":"wechat","account":"1001","amount_fen":5000,
		"balance_fen":15000,"seq":1,"time":"2026-11-26T04:30:00Z"}`, string(r.body))
	require.Empty(t, r.header.Get("Idempotent-Replayed"))
	require.Equal(t, int64(15000), f.account(1001).BalanceFen)

	rec := f.lastRecord()
	require.Equal(t, store.KindTopUp, rec.Kind)
	require.Equal(t, store.IdemKey{Terminal: "API", STAN: 1}, rec.Key)
	require.Equal(t, store.ChannelWeChat, rec.Channel)
	require.Equal(t, "00", rec.Resp)
	require.Equal(t, uint64(1001), rec.Account)
	require.Equal(t, int64(5000), rec.Amount)
	require.Equal(t, int64(15000), rec.BalanceAfter)
	require.Equal(t, "12******9012", rec.CardMasked)
	require.Equal(t, testNow, rec.Time)

	// The same request again: the same answer, byte for byte, and no credit.
	again := f.postJSON("/v1/topups", topUpBody("4200000001", 5000, `"account":"1001"`))
	require.Equal(t, http.StatusOK, again.status)
	require.Equal(t, r.body, again.body)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.Equal(t, int64(15000), f.account(1001).BalanceFen)
	require.Len(t, f.journal(), 1)

	// The same trade number for anything else is a conflict.
	for _, body := range []string{
		topUpBody("4200000001", 5001, `"account":"1001"`),
		topUpBody("4200000001", 5000, `"account":"1004"`),
		topUpBody("4200000001", 5000, `"card_number":"`+cardOK+`"`),
		`{"trade_no":"4200000001","channel":"alipay","amount_fen":5000,"account":"1001"}`,
	} {
		c := f.postJSON("/v1/topups", body)
		require.Equal(t, http.StatusConflict, c.status, body)
		require.Equal(t, CodeConflict, c.code(t))
	}
	require.Equal(t, int64(15000), f.account(1001).BalanceFen)
	require.Equal(t, int64(100), f.account(1004).BalanceFen)
	require.Len(t, f.journal(), 1)
}

func TestTopUpConcurrentRetriesCreditOnce(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	bodies := make([][]byte, 8)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.try(http.MethodPost, "/v1/topups", testToken, "application/json",
				[]byte(topUpBody("ALI-77", 300, `"account":"1004"`)))
			if err != nil || r.status != http.StatusOK {
				t.Errorf("top-up %d: %v %d %s", i, err, r.status, r.body)
			}
			bodies[i] = r.body
		}()
	}
	wg.Wait()
	for _, b := range bodies {
		require.Equal(t, bodies[0], b)
	}
	require.Equal(t, int64(400), f.account(1004).BalanceFen)
	require.Len(t, f.journal(), 1)
}

func TestTopUpLimitAndPayees(t *testing.T) {
	f := newFixture(t)
	r := f.postJSON("/v1/topups", topUpBody("T-over", 99901, `"account":"1001"`))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	require.Equal(t, CodeLimit, r.code(t))
	require.Contains(t, r.json(t)["message"], "99900")

	r = f.postJSON("/v1/topups", topUpBody("T-max", 99900, `"card_number":"`+cardOK+`"`))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, int64(10000+99900), f.account(1001).BalanceFen)

	// The Alipay campus top-up names the payer by name and staff number.
	r = f.postJSON("/v1/topups", `{"trade_no":"2026112622001","channel":"alipay","amount_fen":250,"name":"赵六","staff_no":"2026004"}`)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "1004", r.json(t)["account"])
	require.Equal(t, int64(350), f.account(1004).BalanceFen)
	require.Equal(t, store.ChannelAlipay, f.lastRecord().Channel)

	// A smaller ceiling is configurable.
	g := newFixture(t, func(o *Options) { o.TopUpMaxFen = 1000 })
	r = g.postJSON("/v1/topups", topUpBody("T-1001", 1001, `"account":"1001"`))
	require.Equal(t, CodeLimit, r.code(t))
}

func TestTopUpRefusalsAreRemembered(t *testing.T) {
	f := newFixture(t)
	r := f.postJSON("/v1/topups", topUpBody("T-nobody", 100, `"name":"Nobody","staff_no":"1"`))
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, CodeNotFound, r.code(t))
	rec := f.lastRecord()
	require.Equal(t, "14", rec.Resp)
	require.Equal(t, uint64(0), rec.Account)

	r = f.postJSON("/v1/topups", topUpBody("T-frozen", 100, `"account":"1003"`))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	require.Equal(t, CodeFrozen, r.code(t))
	require.Equal(t, "62", f.lastRecord().Resp)
	require.Equal(t, int64(5000), f.account(1003).BalanceFen)

	// The caller refunds the channel payment on a refusal: a retry after
	// the account was unfrozen must not credit it after all.
	require.NoError(t, f.db.Update(t.Context(), func(tx *store.Tx) error {
		a, _, err := tx.Account(1003)
		if err != nil {
			return err
		}
		a.Status = store.StatusActive
		return tx.PutAccount(&a)
	}))
	again := f.postJSON("/v1/topups", topUpBody("T-frozen", 100, `"account":"1003"`))
	require.Equal(t, r.status, again.status)
	require.Equal(t, r.body, again.body)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	require.Equal(t, int64(5000), f.account(1003).BalanceFen)

	// A lost card does not stop a top-up: the money is still the person's.
	r = f.postJSON("/v1/topups", topUpBody("T-lost", 100, `"account":"1002"`))
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, int64(5100), f.account(1002).BalanceFen)
}

// A top-up that would take a balance past store.MaxBalanceFen is refused
// (422 limit, journaled 61), never wrapped around to a negative balance.
func TestTopUpNeverWraps(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.db.Update(t.Context(), func(tx *store.Tx) error {
		a, _, err := tx.Account(1001)
		if err != nil {
			return err
		}
		a.BalanceFen = store.MaxBalanceFen
		return tx.PutAccount(&a)
	}))
	r := f.postJSON("/v1/topups", topUpBody("4200000009", 1, `"account":"1001"`))
	require.Equal(t, http.StatusUnprocessableEntity, r.status, string(r.body))
	require.Equal(t, CodeLimit, r.code(t))
	require.Equal(t, int64(store.MaxBalanceFen), f.account(1001).BalanceFen)
	require.Equal(t, "61", f.lastRecord().Resp)
}

// TestRecordKeysNamedByGateway: with gateway.id the API's record keys
// carry it, so that two gateways' records never share a key.
func TestRecordKeysNamedByGateway(t *testing.T) {
	require.Equal(t, "API", KeyTerminal(""))
	require.Equal(t, "API-north-1", KeyTerminal("north-1"))
	f := newFixture(t, func(o *Options) { o.GatewayID = "north-1" })
	r := f.postJSON("/v1/topups", topUpBody("4200000001", 5000, `"account":"1001"`))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, store.IdemKey{Terminal: "API-north-1", STAN: 1}, f.lastRecord().Key)
}

// Retention of the remembered answers (PruneOutcomes): a top-up's and a
// fee's answers given before the cutoff go, later ones and answers
// written before outcomes carried their time stay, and nothing else in
// the service bucket (the channel bindings) is touched. A retry after
// that is a new call.
func TestPruneOutcomes(t *testing.T) {
	f := newFixture(t)
	r := f.postJSON("/v1/topups", topUpBody("4200000001", 5000, `"account":"1001"`))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	refused := f.postJSON("/v1/topups", topUpBody("4200000002", 5000, `"account":"9999"`))
	require.Equal(t, http.StatusNotFound, refused.status, string(refused.body))
	legacy := `{"v":1,"digest":"x","status":200,"body":{}}`
	require.NoError(t, f.db.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.PutServiceResult(kindTopUp, "4200000003", []byte(legacy)); err != nil {
			return err
		}
		return paychan.Bind(tx, store.ChannelWeChat, "oPayer1", 1001, testNow)
	}))
	prune := func(before time.Time) int {
		n, err := PruneOutcomes(context.Background(), f.db, before)
		require.NoError(t, err)
		return n
	}
	require.Equal(t, 0, prune(testNow), "answers given at the cutoff stay")
	require.Equal(t, 2, prune(testNow.Add(time.Second)), "the top-up and the refusal")
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		for id, want := range map[string]bool{"4200000001": false, "4200000002": false, "4200000003": true} {
			_, ok, err := tx.ServiceResult(kindTopUp, id)
			require.NoError(t, err)
			require.Equal(t, want, ok, id)
		}
		acct, ok, err := paychan.Lookup(tx, store.ChannelWeChat, "oPayer1")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, uint64(1001), acct)
		return nil
	}))
	again := f.postJSON("/v1/topups", topUpBody("4200000001", 5000, `"account":"1001"`))
	require.Equal(t, http.StatusOK, again.status)
	require.Empty(t, again.header.Get("Idempotent-Replayed"), "a new call once its answer is gone")
}
