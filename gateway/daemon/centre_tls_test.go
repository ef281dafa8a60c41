package daemon_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type testPKI struct {
	ca                  *x509.CertPool
	server              tls.Certificate
	caFile, cert, key   string
	wrongCert, wrongKey string // a client certificate from another CA
}

func newTestPKI(t *testing.T, dir string) *testPKI {
	caKey, caCert, caDER := selfSigned(t, "ecardgw test CA")
	p := &testPKI{ca: x509.NewCertPool()}
	p.ca.AddCert(caCert)
	p.caFile = writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER)

	srvKey, srvDER := issue(t, caCert, caKey, "centre", x509.ExtKeyUsageServerAuth)
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}

	cliKey, cliDER := issue(t, caCert, caKey, "gateway", x509.ExtKeyUsageClientAuth)
	p.cert = writePEM(t, filepath.Join(dir, "gw.pem"), "CERTIFICATE", cliDER)
	p.key = writeKey(t, filepath.Join(dir, "gw.key"), cliKey)

	otherKey, otherCA, _ := selfSigned(t, "someone else's CA")
	wKey, wDER := issue(t, otherCA, otherKey, "gateway", x509.ExtKeyUsageClientAuth)
	p.wrongCert = writePEM(t, filepath.Join(dir, "wrong.pem"), "CERTIFICATE", wDER)
	p.wrongKey = writeKey(t, filepath.Join(dir, "wrong.key"), wKey)
	return p
}

var pkiSerial int64

func certTemplate(cn string) *x509.Certificate {
	pkiSerial++
	return &x509.Certificate{SerialNumber: big.NewInt(pkiSerial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
}

func selfSigned(t *testing.T, cn string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := certTemplate(cn)
	tpl.IsCA, tpl.BasicConstraintsValid = true, true
	tpl.KeyUsage = x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return k, c, der
}

func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, use x509.ExtKeyUsage) (*ecdsa.PrivateKey, []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := certTemplate(cn)
	tpl.ExtKeyUsage = []x509.ExtKeyUsage{use}
	tpl.KeyUsage = x509.KeyUsageDigitalSignature
	tpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &k.PublicKey, caKey)
	require.NoError(t, err)
	return k, der
}

func writePEM(t *testing.T, path, typ string, der []byte) string {
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

func writeKey(t *testing.T, path string, k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return writePEM(t, path, "PRIVATE KEY", der)
}

// TestCentreMutualTLS: a reference centre that requires client
// certificates from its CA serves a gateway configured with centre.tls
// (online purchases reach the centre's ledger); a gateway with a
// certificate from another CA is refused at the handshake, so the centre's
// ledger is never touched by it (it can only stand in).
func TestCentreMutualTLS(t *testing.T) {
	dir := t.TempDir()
	pki := newTestPKI(t, dir)
	c, err := refcentre.Open(t.TempDir())
	require.NoError(t, err)
	_, _, err = c.Import([]store.Account{{No: 1, Name: "Student 1", CardNumber: cardOf(1),
		CardSerial: "00000000" + cardOf(1), BalanceFen: 100000, Status: store.StatusActive}})
	require.NoError(t, err)
	srv, err := c.Listen("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pki.server},
		ClientCAs: pki.ca, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = c.Close()
	})

	run := func(cert, key string) (rc string, centreBal int64) {
		gdir := t.TempDir()
		path := writeGatewayFiles(t, gdir, gwOptions{terminals: 1, mode: "connected", extra: fmt.Sprintf(
			"centre: {url: https://%s, timeout: 500ms, tls: {ca_file: %s, cert_file: %s, key_file: %s}}\n",
			srv.Addr(), pki.caFile, cert, key)})
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
	rc, bal := run(pki.cert, pki.key)
	require.Equal(t, "00", rc)
	require.Equal(t, int64(100000-250), bal, "approved online by the centre over mutual TLS")

	rc, bal = run(pki.wrongCert, pki.wrongKey)
	require.Equal(t, "00", rc, "stood in: the centre refused the handshake")
	require.Equal(t, int64(100000-250), bal, "a gateway with a foreign certificate never reaches the ledger")
}
