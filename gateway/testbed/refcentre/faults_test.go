package refcentre

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

func TestFaultDownAndFlapping(t *testing.T) {
	f := newFixture(t, 1, Options{})
	f.c.SetFaults(Faults{Down: true})
	_, err := f.cl.Authorize(ctx(t), purchase(1, cardOf(1), 100))
	require.ErrorIs(t, err, centre.ErrUnreachable)
	_, err = f.cl.Pay(ctx(t), pay("P", 0, 100))
	require.ErrorIs(t, err, txn.ErrPayUnreachable)
	require.Equal(t, int64(10000), f.balance(t, 1), "down does nothing")

	f.c.SetFaults(Faults{FlapEvery: 2})
	var got []bool
	for i := range 6 {
		_, err := f.cl.Authorize(ctx(t), purchase(uint32(10+i), cardOf(1), 1))
		got = append(got, err == nil)
	}
	require.Equal(t, []bool{true, true, false, false, true, true}, got)
}

func TestFaultGarbageLeavesOutcomeUnknownButSafe(t *testing.T) {
	f := newFixture(t, 1, Options{})
	f.c.SetFaults(Faults{Garbage: true})
	_, err := f.cl.Authorize(ctx(t), purchase(1, cardOf(1), 100))
	require.ErrorIs(t, err, centre.ErrUnreachable)
	require.ErrorIs(t, err, centre.ErrBadAnswer)
	f.c.SetFaults(Faults{})
	r, err := f.cl.Authorize(ctx(t), purchase(1, cardOf(1), 100))
	require.NoError(t, err)
	require.Equal(t, int64(9900), r.BalanceFen, "applied once, by the garbled call")
}

func TestFaultTwiceIsIdempotent(t *testing.T) {
	f := newFixture(t, 1, Options{})
	f.c.SetFaults(Faults{Twice: true})
	r, err := f.cl.Authorize(ctx(t), purchase(1, cardOf(1), 100))
	require.NoError(t, err)
	require.Equal(t, txn.RCApproved, r.RC)
	require.Equal(t, int64(9900), r.BalanceFen)
	res, err := f.cl.Deliver(ctx(t), []store.Record{rec(1, 2, store.KindPurchase, 1, 50, true)})
	require.NoError(t, err)
	require.True(t, res[0].OK)
	require.Equal(t, int64(9850), f.balance(t, 1))
}

func TestFaultLatencyBeyondTimeout(t *testing.T) {
	f := newFixture(t, 1, Options{})
	cl, err := centre.New(centre.Options{URL: f.srv.URL, Timeout: 50 * time.Millisecond})
	require.NoError(t, err)
	f.c.SetFaults(Faults{LatencyMS: 500})
	_, err = cl.Authorize(ctx(t), purchase(1, cardOf(1), 100))
	require.ErrorIs(t, err, centre.ErrUnreachable)
	require.Equal(t, int64(10000), f.balance(t, 1))
}

func TestAdminEndpoints(t *testing.T) {
	f := newFixture(t, 2, Options{})
	post := func(method, path string, body any) *http.Response {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(b))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := post(http.MethodPut, PathFaults, Faults{Down: true})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, f.c.CurrentFaults().Down)
	require.Equal(t, http.StatusOK, post(http.MethodGet, PathHealth, nil).StatusCode, "admin answers while down")
	require.Equal(t, http.StatusOK, post(http.MethodPut, PathFaults, Faults{}).StatusCode)
	require.Equal(t, http.StatusBadRequest, post(http.MethodPut, PathFaults, map[string]any{"bogus": 1}).StatusCode)

	require.Equal(t, http.StatusOK, post(http.MethodPost, PathLoss, LossRequest{Card: cardOf(1), Lost: true}).StatusCode)
	require.Equal(t, http.StatusNotFound, post(http.MethodPost, PathLoss, LossRequest{Card: "000000000000", Lost: true}).StatusCode)
	require.Equal(t, http.StatusOK, post(http.MethodPost, PathStatus, StatusRequest{Account: 2, Status: "frozen"}).StatusCode)
	require.Equal(t, http.StatusBadRequest, post(http.MethodPost, PathStatus, StatusRequest{Account: 2, Status: "gone"}).StatusCode)

	resp = post(http.MethodGet, "/admin/accounts/1", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var a centre.WireAccount
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	require.Equal(t, "lost", a.Status)
	require.Equal(t, http.StatusNotFound, post(http.MethodGet, "/admin/accounts/99", nil).StatusCode)

	csv := "account,name,card_number,card_serial,balance_fen,status,staff_no\n3,New Student,100000000003," + serialOf(3) + ",500,active,S3\n"
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+PathImport, bytes.NewBufferString(csv))
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, int64(500), f.balance(t, 3))

	resp = post(http.MethodGet, PathStats, nil)
	var st Stats
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
}
