package service

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func feeBody(id, account, typ, target string, amount int64) string {
	return fmt.Sprintf(`{"request_id":%q,"account":%q,"type":%q,"target":%q,"amount_fen":%d}`, id, account, typ, target, amount)
}

func TestFeePayment(t *testing.T) {
	f := newFixture(t)
	r := f.postJSON("/v1/fees", feeBody("R1", "1001", "net", "NET:20260001", 3000))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.JSONEq(t, `{"request_id":"R1","account":"1001","type":"net","target":"NET:20260001",
		"amount_fen":3000,"balance_fen":7000,"seq":1,"time":"2026-11-26T04:30:00Z"}`, string(r.body))
	rec := f.lastRecord()
	require.Equal(t, store.KindFee, rec.Kind)
	require.Equal(t, uint32(170000), rec.ProcCode)
	require.Equal(t, "NET:20260001", rec.Note, "the utility reads the target from the fee record")
	require.Equal(t, store.ChannelCampus, rec.Channel)

	r = f.postJSON("/v1/fees", feeBody("R2", "1001", "elec", "ELEC:B12-305", 1500))
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, int64(10000-4500), f.account(1001).BalanceFen)

	// Idempotent by request_id; the id reused for another payment is a conflict.
	again := f.postJSON("/v1/fees", feeBody("R2", "1001", "elec", "ELEC:B12-305", 1500))
	require.Equal(t, r.body, again.body)
	require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	c := f.postJSON("/v1/fees", feeBody("R2", "1001", "elec", "ELEC:B12-306", 1500))
	require.Equal(t, http.StatusConflict, c.status)
	require.Equal(t, int64(5500), f.account(1001).BalanceFen)
	require.Len(t, f.journal(), 2)
}

func TestFeeValidation(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		typ, target string
	}{
		{"net", "NET:"}, {"net", "NET:12ab"}, {"elec", "ELEC:B12"}, {"elec", "ELEC:-305"},
		{"net", "GAS:1"}, {"elec", "ELEC:B12-30/5"}, {"net", "ELEC:B12-305"}, {"elec", "NET:1"},
		{"net", "NET:12345678901234567"},
	} {
		r := f.postJSON("/v1/fees", feeBody("V-"+c.target, "1001", c.typ, c.target, 100))
		require.Equal(t, http.StatusBadRequest, r.status, c.target)
		require.Contains(t, r.json(t)["message"], "target")
	}
	r := f.postJSON("/v1/fees", feeBody("V-limit", "1001", "net", "NET:1", 99901))
	require.Equal(t, CodeLimit, r.code(t))
	r = f.postJSON("/v1/fees", feeBody("V-id too long", "1001", "net", "NET:1", 1))
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Empty(t, f.journal())
}

func TestFeeRefusals(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		account, code, resp string
		status              int
	}{
		{"1004", CodeInsufficient, "51", http.StatusUnprocessableEntity},
		{"1002", CodeFrozen, "41", http.StatusUnprocessableEntity},
		{"1003", CodeFrozen, "62", http.StatusUnprocessableEntity},
		{"9999", CodeNotFound, "14", http.StatusNotFound},
	} {
		id := "F-" + c.account
		r := f.postJSON("/v1/fees", feeBody(id, c.account, "net", "NET:1", 101))
		require.Equal(t, c.status, r.status, c.account)
		require.Equal(t, c.code, r.code(t))
		require.Equal(t, c.resp, f.lastRecord().Resp, "a refusal is journaled")
		again := f.postJSON("/v1/fees", feeBody(id, c.account, "net", "NET:1", 101))
		require.Equal(t, r.body, again.body)
		require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
	}
	require.Len(t, f.journal(), 4)
	require.Equal(t, int64(100), f.account(1004).BalanceFen)
}
