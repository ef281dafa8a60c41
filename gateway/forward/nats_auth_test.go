package forward

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/config/tlstest"
	"ecardgw/gateway/forward/natstest"
	"ecardgw/store"
)

// deliverOne connects with the options the configuration and key file
// give and delivers one record to the stream.
func deliverOne(t *testing.T, n config.NATS, k config.UpstreamKeys) error {
	t.Helper()
	n.Stream, n.Subject = "ECARDGW", "ecardgw.records"
	o, err := NATSOptionsFromConfig(n, k)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	sink, err := NewNATSSink(ctx, o)
	if err != nil {
		return err
	}
	defer sink.Close()
	res, err := sink.Deliver(ctx, []store.Record{standIn(1, 1)})
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.True(t, res[0].OK, res[0].Reason)
	return nil
}

// deliverRefused: without what the server requires, the start fails at
// once with the server's refusal, instead of retrying in the background
// as if the server were down.
func deliverRefused(t *testing.T, n config.NATS, k config.UpstreamKeys) {
	t.Helper()
	start := time.Now()
	err := deliverOne(t, n, k)
	require.Error(t, err)
	require.ErrorContains(t, err, "refused")
	require.Less(t, time.Since(start), 10*time.Second)
}

func TestNATSUserPasswordFromKeyFile(t *testing.T) {
	srv := natstest.StartWith(t, natstest.Options{Args: []string{"--user", "gw-north", "--pass", "p4ss w0rd"}})
	n := config.NATS{URL: srv.URL()}
	require.NoError(t, deliverOne(t, n, config.UpstreamKeys{NATSUser: config.Secret("gw-north"), NATSPassword: config.Secret("p4ss w0rd")}))
	deliverRefused(t, n, config.UpstreamKeys{})
	err := deliverOne(t, n, config.UpstreamKeys{NATSUser: config.Secret("gw-north"), NATSPassword: config.Secret("guess")})
	require.ErrorIs(t, err, nats.ErrAuthorization)
	require.NotContains(t, err.Error(), "guess")
}

func TestNATSTokenFromKeyFile(t *testing.T) {
	srv := natstest.StartWith(t, natstest.Options{Args: []string{"--auth", "nats-token-0123456789"}})
	n := config.NATS{URL: srv.URL()}
	require.NoError(t, deliverOne(t, n, config.UpstreamKeys{NATSToken: config.Secret("nats-token-0123456789")}))
	deliverRefused(t, n, config.UpstreamKeys{})
}

func TestNATSNKeyFile(t *testing.T) {
	user, err := nkeys.CreateUser()
	require.NoError(t, err)
	pub, err := user.PublicKey()
	require.NoError(t, err)
	seed, err := user.Seed()
	require.NoError(t, err)
	seedFile := filepath.Join(t.TempDir(), "gw.nk")
	require.NoError(t, os.WriteFile(seedFile, seed, 0o600))
	srv := natstest.StartWith(t, natstest.Options{Conf: "authorization { users = [ { nkey: " + pub + " } ] }\n"})

	require.NoError(t, deliverOne(t, config.NATS{URL: srv.URL(), NKeyFile: seedFile}, config.UpstreamKeys{}))
	deliverRefused(t, config.NATS{URL: srv.URL()}, config.UpstreamKeys{})

	other, err := nkeys.CreateUser()
	require.NoError(t, err)
	otherSeed, err := other.Seed()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(seedFile, otherSeed, 0o600))
	deliverRefused(t, config.NATS{URL: srv.URL(), NKeyFile: seedFile}, config.UpstreamKeys{})
}

// The NATS link uses the same TLS model as the centre: a server that
// requires a client certificate from its CA takes the gateway's and
// refuses another CA's, or none.
func TestNATSMutualTLS(t *testing.T) {
	pki := tlstest.New(t)
	srv := natstest.StartWith(t, natstest.Options{TLS: true, Args: []string{
		"--tlsverify", "--tlscert", pki.ServerCert, "--tlskey", pki.ServerKey, "--tlscacert", pki.CAFile}})
	require.NoError(t, deliverOne(t, config.NATS{URL: srv.URL(), TLS: pki.Client}, config.UpstreamKeys{}))
	deliverRefused(t, config.NATS{URL: srv.URL(), TLS: pki.Foreign}, config.UpstreamKeys{})
	deliverRefused(t, config.NATS{URL: srv.URL(), TLS: config.TLS{CAFile: pki.CAFile}}, config.UpstreamKeys{})
	// A nats:// URL with a TLS section still insists on TLS.
	plain := "nats" + srv.URL()[len("tls"):]
	require.NoError(t, deliverOne(t, config.NATS{URL: plain, TLS: pki.Client}, config.UpstreamKeys{}))
}

func TestNATSOneAuthMethod(t *testing.T) {
	_, err := NewNATSSink(context.Background(), NATSOptions{URL: "nats://127.0.0.1:1", Stream: "S", Subject: "s",
		Token: config.Secret("t"), User: config.Secret("u"), Password: config.Secret("p")})
	require.ErrorIs(t, err, ErrBadOptions)
}
