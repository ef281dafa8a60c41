package service

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func TestHistoryPages(t *testing.T) {
	f := newFixture(t)
	// Five top-ups and two fees, with journaled records that move no money
	// (an inquiry, a decline) in between.
	for i := 1; i <= 5; i++ {
		r := f.postJSON("/v1/topups", topUpBody(fmt.Sprintf("H%d", i), int64(i*100), `"account":"1001"`))
		require.Equal(t, http.StatusOK, r.status)
		require.NoError(t, f.db.Update(t.Context(), func(tx *store.Tx) error {
			_, err := tx.AppendJournal(&store.Record{Time: testNow, Key: store.IdemKey{Terminal: "T0000001", STAN: uint32(i), MTI: 100},
				Kind: store.KindInquiry, Account: 1001, Resp: "00"})
			return err
		}))
	}
	require.Equal(t, http.StatusOK, f.postJSON("/v1/fees", feeBody("HF1", "1001", "elec", "ELEC:B1-101", 700)).status)
	require.Equal(t, http.StatusUnprocessableEntity, f.postJSON("/v1/fees", feeBody("HF2", "1001", "net", "NET:1", 99000)).status)
	require.Equal(t, http.StatusOK, f.postJSON("/v1/topups", topUpBody("other", 100, `"account":"1004"`)).status)

	type rec struct {
		Seq       uint64 `json:"seq"`
		Kind      string `json:"kind"`
		AmountFen int64  `json:"amount_fen"`
		Target    string `json:"target"`
		Terminal  string `json:"terminal"`
		Time      string `json:"time"`
	}
	page := func(q string) ([]rec, uint64) {
		r := f.get("/v1/accounts/1001/history" + q)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		m := r.json(t)
		var out []rec
		for _, x := range m["records"].([]any) {
			e := x.(map[string]any)
			out = append(out, rec{Seq: uint64(e["seq"].(float64)), Kind: e["kind"].(string),
				AmountFen: int64(e["amount_fen"].(float64)), Target: str(e["target"]),
				Terminal: e["terminal"].(string), Time: e["time"].(string)})
		}
		next, _ := m["next_before"].(float64)
		return out, uint64(next)
	}
	all, next := page("")
	require.Zero(t, next)
	require.Len(t, all, 6, "only approved money movements of this account")
	require.Equal(t, rec{Seq: 11, Kind: "fee", AmountFen: 700, Target: "ELEC:B1-101", Terminal: "API", Time: "2026-11-26T04:30:00Z"}, all[0])
	require.Equal(t, "topup", all[5].Kind)
	require.Equal(t, int64(100), all[5].AmountFen)

	var got []rec
	q := "?limit=2"
	for range 10 {
		p, next := page(q)
		got = append(got, p...)
		if next == 0 {
			break
		}
		q = fmt.Sprintf("?limit=2&before=%d", next)
	}
	require.Equal(t, all, got, "the pages add up to the whole history, in order")

	r := f.get("/v1/accounts/4242/history")
	require.Equal(t, http.StatusNotFound, r.status)
	r = f.get("/v1/accounts/1003/history")
	require.JSONEq(t, `{"account":"1003","records":[]}`, string(r.body))
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
