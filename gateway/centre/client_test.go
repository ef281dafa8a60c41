package centre

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

func TestKeyStringRoundTrip(t *testing.T) {
	k := store.IdemKey{Terminal: "T0000001", Batch: 12, STAN: 345, MTI: 200}
	s := KeyString(k)
	require.Equal(t, "T0000001:000012:000345:0200", s)
	back, err := ParseKey(s)
	require.NoError(t, err)
	require.Equal(t, k, back)
	for _, bad := range []string{"", "T1:1:2", "T1:x:2:200", ":1:2:200", "T1:1:2:70000", "T12345678901234567:1:2:200"} {
		_, err := ParseKey(bad)
		require.ErrorIs(t, err, ErrBadKey, bad)
	}
}

func TestNewOptions(t *testing.T) {
	for _, bad := range []string{"", "ftp://x", "http://", "http://x/?q=1", "::"} {
		_, err := New(Options{URL: bad})
		require.ErrorIs(t, err, ErrBadOptions, bad)
	}
	c, err := New(Options{URL: "http://127.0.0.1:1/api/"})
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:1/api", c.base)
	require.Equal(t, DefaultTimeout, c.timeout)

	_, err = New(Options{URL: "https://x", CertFile: "a.pem"})
	require.ErrorIs(t, err, ErrBadOptions, "cert without key")
	_, err = New(Options{URL: "https://x", CAFile: filepath.Join(t.TempDir(), "none.pem")})
	require.ErrorIs(t, err, ErrBadOptions)
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	_, err = New(Options{URL: "https://x", CAFile: notPEM})
	require.ErrorIs(t, err, ErrBadOptions)

	o := OptionsFromConfig(config.Centre{URL: "https://c", Timeout: time.Second,
		TLS: config.TLS{CAFile: "ca", CertFile: "c", KeyFile: "k", InsecureSkipVerify: true}},
		config.UpstreamKeys{CentreToken: config.Secret("tok"), NATSToken: config.Secret("nats")})
	require.Equal(t, Options{URL: "https://c", Timeout: time.Second, CAFile: "ca", CertFile: "c", KeyFile: "k", InsecureSkipVerify: true,
		Token: config.Secret("tok")}, o)
}

// answer serves one fixed status and body for every request.
func answer(t *testing.T, code int, body string) *Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{URL: srv.URL, Timeout: time.Second})
	require.NoError(t, err)
	return c
}

func TestErrorClasses(t *testing.T) {
	ctx := context.Background()
	req := AuthRequest{Key: store.IdemKey{Terminal: "T1", STAN: 1, MTI: 200}, Kind: KindInquiry, Card: "100000000001"}
	cases := []struct {
		name     string
		code     int
		body     string
		want     error
		notWant  error
		contains string
	}{
		{"5xx", 503, `{"error":"down for maintenance"}`, ErrUnreachable, ErrRejected, "down for maintenance"},
		{"4xx", 400, `{"error":"bad kind"}`, ErrRejected, ErrUnreachable, "bad kind"},
		{"garbage", 200, "\x00{garbage", ErrBadAnswer, ErrRejected, ""},
		{"two documents", 200, `{"rc":"00"}{"rc":"00"}`, ErrBadAnswer, ErrRejected, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := answer(t, tc.code, tc.body).Authorize(ctx, req)
			require.ErrorIs(t, err, tc.want)
			require.NotErrorIs(t, err, tc.notWant)
			require.ErrorContains(t, err, tc.contains)
			require.NotContains(t, err.Error(), "100000000001", "never the card number")
		})
	}
	_, err := answer(t, 503, "").Pay(ctx, txn.PayRequest{TradeNo: "x"})
	require.ErrorIs(t, err, txn.ErrPayUnreachable)
	_, err = answer(t, 200, `{"status":"teleported"}`).Query(ctx, "x")
	require.ErrorIs(t, err, txn.ErrPayUnreachable)
	require.ErrorIs(t, answer(t, 200, `{"status":"paid"}`).Cancel(ctx, "x"), ErrRejected, "cancel must end cancelled")
	_, err = answer(t, 200, `{"results":[]}`).Deliver(ctx, []store.Record{{Seq: 1}})
	require.ErrorIs(t, err, ErrBadAnswer, "one result per record")
	_, err = answer(t, 200, `{"results":[{"seq":2,"ok":true}]}`).Deliver(ctx, []store.Record{{Seq: 1}})
	require.ErrorIs(t, err, ErrBadAnswer, "results in order")
	_, _, err = answer(t, 200, `{"entries":[{"version":2},{"version":1}]}`).Blacklist(ctx, 0)
	require.ErrorIs(t, err, ErrBadAnswer)
	_, err = answer(t, 200, `{"accounts":[],"more":true}`).Snapshot(ctx, 0, func(AccountSnapshot) error { return nil })
	require.ErrorIs(t, err, ErrBadAnswer, "a page with more must not be empty")
}

func TestAuthorizeTimeoutIsUnreachable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := New(Options{URL: srv.URL, Timeout: 30 * time.Millisecond})
	require.NoError(t, err)
	_, err = c.Authorize(context.Background(), AuthRequest{Key: store.IdemKey{Terminal: "T1"}, Kind: KindInquiry})
	require.ErrorIs(t, err, ErrUnreachable)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestWireRecordRoundTrip(t *testing.T) {
	orig := store.IdemKey{Terminal: "T2", Batch: 3, STAN: 4, MTI: 200}
	r := store.Record{Seq: 9, Time: time.Date(2026, 11, 26, 1, 2, 3, 4, time.UTC), Key: store.IdemKey{Terminal: "T2", Batch: 3, STAN: 5, MTI: 400},
		Kind: store.KindReversal, ProcCode: 0, Account: 7, CardMasked: "1000******01", Channel: store.ChannelCampus, Amount: 100,
		Resp: "00", RRN: "000000000001", Auth: "123456", BalanceAfter: 900, Orig: &orig, Exception: true,
		StandIn: true, Location: "canteen", Note: "n"}
	w := ToWireRecord(&r)
	require.Equal(t, r, w.Record())
}

func TestTxnCentreAdapter(t *testing.T) {
	_, err := TxnCentre{answer(t, 502, "")}.Authorize(context.Background(), txn.AuthRequest{Key: store.IdemKey{Terminal: "T1"}, Kind: KindInquiry})
	require.ErrorIs(t, err, txn.ErrCentreUnreachable)
	res, err := TxnCentre{answer(t, 200, `{"rc":"51","account":3,"balance_fen":10,"status":"active"}`)}.Authorize(
		context.Background(), txn.AuthRequest{Key: store.IdemKey{Terminal: "T1"}, Kind: KindPurchase, Amount: 11})
	require.NoError(t, err)
	require.Equal(t, txn.AuthResult{RC: "51", Account: 3, BalanceFen: 10, Status: "active"}, res)
}
