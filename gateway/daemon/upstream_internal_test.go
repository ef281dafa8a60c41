package daemon

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/config"
	"ecardgw/gateway/config/tlstest"
	"ecardgw/gateway/forward/natstest"
	"ecardgw/gateway/txn"
)

const upstreamToken = "centre-token-0123456789abcdefghij"

// loadUpstreamConfig loads a configuration and a key file as the daemon
// gets them.
func loadUpstreamConfig(t *testing.T, body, upstreamKeys string) (*config.Config, *config.Keys) {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.yaml")
	require.NoError(t, os.WriteFile(keys, []byte("wallet_master_load_key: a1b2c3d4e5f60718293a4b5c6d7e8f90\n"+
		"storage_key: 5f4e3d2c1b0a99887766554433221100ffeeddccbbaa99887766554433221100\n"+upstreamKeys), 0o600))
	path := filepath.Join(dir, "ecardgw.yaml")
	require.NoError(t, os.WriteFile(path, []byte("keys: {file: "+keys+"}\n"+body), 0o600))
	cfg, err := config.Load(path)
	require.NoError(t, err)
	k, err := config.LoadKeys(keys)
	require.NoError(t, err)
	return cfg, k
}

// In standalone mode the payment service (payments.url) is reached with
// centre.tls and the key file's centre token: a payment service on
// loopback that requires a client certificate and the token is paid
// through, and refuses a gateway without the token.
func TestPaymentsUseCentreTLSAndToken(t *testing.T) {
	pki := tlstest.New(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+upstreamToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req centre.WirePayRequest
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		_ = json.NewEncoder(w).Encode(centre.WirePayResult{TradeNo: req.TradeNo, Status: centre.PayStatusPaid})
	}))
	srv.TLS = pki.ServerTLS()
	srv.StartTLS()
	t.Cleanup(srv.Close)

	body := "payments: {url: \"" + srv.URL + "\"}\n" +
		"centre: {tls: {ca_file: " + pki.Client.CAFile + ", cert_file: " + pki.Client.CertFile + ", key_file: " + pki.Client.KeyFile + "}}\n"
	pay := func(keys string) (txn.PayResult, error) {
		cfg, k := loadUpstreamConfig(t, body, keys)
		u, err := newUpstream(cfg, k)
		require.NoError(t, err)
		defer u.close()
		require.NotNil(t, u.payments)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return u.payments.Pay(ctx, txn.PayRequest{TradeNo: "P1", Amount: 100})
	}
	res, err := pay("upstream: {centre_token: " + upstreamToken + "}\n")
	require.NoError(t, err)
	require.Equal(t, txn.PayPaid, res.Status)

	_, err = pay("")
	require.ErrorIs(t, err, centre.ErrRejected, "no token: the service answers 401")
}

// The NATS sink and the shared replay bucket connect with the key file's
// credentials; without them the gateway does not start.
func TestNATSUpstreamCredentials(t *testing.T) {
	ns := natstest.StartWith(t, natstest.Options{Args: []string{"--user", "gw", "--pass", "nats-password-1"}})
	body := "forward: {nats: {url: \"" + ns.URL() + "\", replay_bucket: REPLAY}}\n"
	cfg, k := loadUpstreamConfig(t, body, "upstream: {nats_user: gw, nats_password: nats-password-1}\n")
	u, err := newUpstream(cfg, k)
	require.NoError(t, err)
	require.NotNil(t, u.shared)
	ok, err := u.shared.Claim(context.Background(), 1, 2, 3)
	require.NoError(t, err)
	require.True(t, ok)
	u.close()

	cfg, k = loadUpstreamConfig(t, body, "")
	_, err = newUpstream(cfg, k)
	require.ErrorContains(t, err, "forward.nats: nats: the server refused the connection")
}
