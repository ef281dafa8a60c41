package centre

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/config/tlstest"
	"ecardgw/gateway/txn"
)

const testToken = "centre-token-0123456789abcdefghij"

// payServer is a payment service on loopback that requires a client
// certificate from pki's CA and the bearer token.
func payServer(t *testing.T, pki *tlstest.PKI) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"bearer token required"}`))
			return
		}
		var req WirePayRequest
		if json.NewDecoder(r.Body).Decode(&req) != nil || r.URL.Path != PathPay {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(WirePayResult{TradeNo: req.TradeNo, Status: PayStatusPaid, ChannelTxn: "ch-1"})
	}))
	srv.TLS = pki.ServerTLS()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// The client built from the configuration (centre.tls, the key file's
// centre token) reaches a server that requires both; without the token it
// is refused by the server, with a foreign certificate it does not get
// past the handshake.
func TestClientTLSAndToken(t *testing.T) {
	pki := tlstest.New(t)
	srv := payServer(t, pki)
	pay := func(tls config.TLS, tok string) (txn.PayResult, error) {
		o := OptionsFromConfig(config.Centre{URL: srv.URL, Timeout: time.Second, TLS: tls},
			config.UpstreamKeys{CentreToken: config.Secret(tok)})
		c, err := New(o)
		require.NoError(t, err)
		defer c.Close()
		return c.Pay(context.Background(), txn.PayRequest{TradeNo: "T1", Amount: 100})
	}
	res, err := pay(pki.Client, testToken)
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)

	_, err = pay(pki.Client, "")
	require.ErrorIs(t, err, ErrRejected)
	require.ErrorContains(t, err, "401")

	_, err = pay(pki.Foreign, testToken)
	require.ErrorIs(t, err, ErrUnreachable, "the server refuses a certificate from another CA")
	require.NotContains(t, err.Error(), testToken)

	_, err = pay(config.TLS{CAFile: pki.CAFile}, testToken)
	require.ErrorIs(t, err, ErrUnreachable, "no client certificate")
}

// PaymentsOptionsFromConfig reaches payments.url with the centre's TLS
// settings and token: the payment service is one more upstream of the same
// operator.
func TestPaymentsOptionsUseCentreTLSAndToken(t *testing.T) {
	pki := tlstest.New(t)
	srv := payServer(t, pki)
	cfg := &config.Config{
		Centre:   config.Centre{Timeout: time.Second, TLS: pki.Client},
		Payments: config.Payments{URL: srv.URL},
	}
	o := PaymentsOptionsFromConfig(cfg, &config.Keys{Upstream: config.UpstreamKeys{CentreToken: config.Secret(testToken)}})
	require.Equal(t, srv.URL, o.URL)
	c, err := New(o)
	require.NoError(t, err)
	defer c.Close()
	res, err := c.Pay(context.Background(), txn.PayRequest{TradeNo: "T2", Amount: 1})
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)
}
