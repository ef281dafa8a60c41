package daemon_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
	"ecardgw/gateway/config/tlstest"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// TestCentreMutualTLS: a reference centre that requires client
// certificates from its CA serves a gateway configured with centre.tls
// (online purchases reach the centre's ledger); a gateway with a
// certificate from another CA is refused at the handshake, so the centre's
// ledger is never touched by it (it can only stand in).
func TestCentreMutualTLS(t *testing.T) {
	pki := tlstest.New(t)
	c, err := refcentre.Open(t.TempDir())
	require.NoError(t, err)
	_, _, err = c.Import([]store.Account{{No: 1, Name: "Student 1", CardNumber: cardOf(1),
		CardSerial: "00000000" + cardOf(1), BalanceFen: 100000, Status: store.StatusActive}})
	require.NoError(t, err)
	srv, err := c.Listen("127.0.0.1:0", pki.ServerTLS())
	require.NoError(t, err)
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = c.Close()
	})

	run := func(client config.TLS) (rc string, centreBal int64) {
		gdir := t.TempDir()
		path := writeGatewayFiles(t, gdir, gwOptions{terminals: 1, mode: "connected", extra: fmt.Sprintf(
			"centre: {url: https://%s, timeout: 500ms, tls: {ca_file: %s, cert_file: %s, key_file: %s}}\n",
			srv.Addr(), client.CAFile, client.CertFile, client.KeyFile)})
		importAccounts(t, filepath.Join(gdir, "gw.db"), 1, 100000)
		g := &gateway{t: t, dir: gdir, cfg: path}
		g.start()
		p, _ := g.dial(1)
		_, err := p.SignIn(context.Background(), 1)
		require.NoError(t, err)
		resp, _, err := p.Send(context.Background(), p.CardPurchase(cardOf(1), 250, nil), true)
		require.NoError(t, err)
		return posclient.RC(resp), centreBalance(t, c, 1)
	}
	rc, bal := run(pki.Client)
	require.Equal(t, "00", rc)
	require.Equal(t, int64(100000-250), bal, "approved online by the centre over mutual TLS")

	rc, bal = run(pki.Foreign)
	require.Equal(t, "00", rc, "stood in: the centre refused the handshake")
	require.Equal(t, int64(100000-250), bal, "a gateway with a foreign certificate never reaches the ledger")
}
