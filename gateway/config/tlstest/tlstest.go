// Package tlstest makes a throwaway PKI for tests of the upstream links:
// a CA, a server certificate for 127.0.0.1 and localhost, a client
// certificate from the CA and one from another CA, written as PEM files
// (private keys mode 0600, as config.Load requires).
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/config"
)

// PKI is one test CA and the certificates it issued.
type PKI struct {
	CA     *x509.CertPool
	Server tls.Certificate
	// CAFile, ServerCert and ServerKey are PEM files (for nats-server).
	CAFile, ServerCert, ServerKey string
	// Client is the gateway's certificate from this CA; Foreign one from
	// another CA.
	Client, Foreign config.TLS
}

var serial atomic.Int64

// New writes the PKI into a temporary directory of t.
func New(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert, caDER := selfSigned(t, "ecardgw test CA")
	p := &PKI{CA: x509.NewCertPool()}
	p.CA.AddCert(caCert)
	p.CAFile = writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER)

	srvKey, srvDER := issue(t, caCert, caKey, "upstream", x509.ExtKeyUsageServerAuth)
	p.Server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	p.ServerCert = writePEM(t, filepath.Join(dir, "server.pem"), "CERTIFICATE", srvDER)
	p.ServerKey = writeKey(t, filepath.Join(dir, "server.key"), srvKey)

	cliKey, cliDER := issue(t, caCert, caKey, "gateway", x509.ExtKeyUsageClientAuth)
	p.Client = config.TLS{CAFile: p.CAFile,
		CertFile: writePEM(t, filepath.Join(dir, "gw.pem"), "CERTIFICATE", cliDER),
		KeyFile:  writeKey(t, filepath.Join(dir, "gw.key"), cliKey)}

	otherKey, otherCA, _ := selfSigned(t, "someone else's CA")
	wKey, wDER := issue(t, otherCA, otherKey, "gateway", x509.ExtKeyUsageClientAuth)
	p.Foreign = config.TLS{CAFile: p.CAFile,
		CertFile: writePEM(t, filepath.Join(dir, "wrong.pem"), "CERTIFICATE", wDER),
		KeyFile:  writeKey(t, filepath.Join(dir, "wrong.key"), wKey)}
	return p
}

// ServerTLS is a server configuration that requires a client certificate
// from the CA.
func (p *PKI) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.Server}, ClientCAs: p.CA,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
}

func template(cn string) *x509.Certificate {
	return &x509.Certificate{SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
}

func selfSigned(t testing.TB, cn string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := template(cn)
	tpl.IsCA, tpl.BasicConstraintsValid = true, true
	tpl.KeyUsage = x509.KeyUsageCertSign
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return k, c, der
}

func issue(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, use x509.ExtKeyUsage) (*ecdsa.PrivateKey, []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := template(cn)
	tpl.ExtKeyUsage = []x509.ExtKeyUsage{use}
	tpl.KeyUsage = x509.KeyUsageDigitalSignature
	tpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	tpl.DNSNames = []string{"localhost"}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &k.PublicKey, caKey)
	require.NoError(t, err)
	return k, der
}

func writePEM(t testing.TB, path, typ string, der []byte) string {
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

func writeKey(t testing.TB, path string, k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return writePEM(t, path, "PRIVATE KEY", der)
}
