package refcentre

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
	"ecardgw/store/accountscsv"
)

// writePKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all PEM, into dir.
func writePKI(t *testing.T, dir string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		writePEM(t, filepath.Join(dir, name+".pem"), "CERTIFICATE", der)
		kd, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		writePEM(t, filepath.Join(dir, name+".key"), "EC PRIVATE KEY", kd)
	}
	leaf("server", 2, x509.ExtKeyUsageServerAuth)
	leaf("client", 3, x509.ExtKeyUsageClientAuth)
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// lineWriter hands what the serving command prints to a pipe.
type lineWriter struct{ w *io.PipeWriter }

func (l lineWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

func TestCommandImportAndServeWithClientCertificates(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	writePKI(t, dir)
	var csv bytes.Buffer
	require.NoError(t, accountscsv.Write(&csv, rowsN(3, 2500)))
	csvPath := filepath.Join(dir, "accounts.csv")
	require.NoError(t, os.WriteFile(csvPath, csv.Bytes(), 0o600))

	var out bytes.Buffer
	cmd := Command()
	cmd.SetArgs([]string{"accounts", "import", "--data", data, csvPath})
	cmd.SetOut(&out)
	require.NoError(t, cmd.Execute())
	require.Contains(t, out.String(), "3 rows, 3 accounts created, 0 updated")

	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	serve := Command()
	serve.SetArgs([]string{"serve", "--data", data, "--listen", "127.0.0.1:0",
		"--tls-cert", filepath.Join(dir, "server.pem"), "--tls-key", filepath.Join(dir, "server.key"),
		"--client-ca", filepath.Join(dir, "ca.pem")})
	serve.SetOut(lineWriter{pw})
	done := make(chan error, 1)
	go func() { done <- serve.ExecuteContext(ctx); _ = pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	addr := strings.TrimSpace(strings.TrimPrefix(line, "ecardcentre listening on "))

	with, err := centre.New(centre.Options{URL: "https://" + addr, CAFile: filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client.key")})
	require.NoError(t, err)
	res, err := with.Authorize(context.Background(), centre.AuthRequest{Key: key(1), Kind: centre.KindInquiry, Account: 2})
	require.NoError(t, err)
	require.Equal(t, int64(2500), res.BalanceFen)
	with.Close()

	without, err := centre.New(centre.Options{URL: "https://" + addr, CAFile: filepath.Join(dir, "ca.pem")})
	require.NoError(t, err)
	_, err = without.Authorize(context.Background(), centre.AuthRequest{Key: key(2), Kind: centre.KindInquiry, Account: 2})
	require.ErrorIs(t, err, centre.ErrUnreachable, "no client certificate: the handshake fails")
	without.Close()

	cancel()
	require.NoError(t, <-done)
}

func TestCommandFlags(t *testing.T) {
	_, err := serverTLS("cert.pem", "", "")
	require.ErrorIs(t, err, ErrTLSFlags)
	cmd := Command()
	cmd.SetArgs([]string{"accounts", "import", "--data", t.TempDir(), filepath.Join(t.TempDir(), "missing.csv")})
	require.Error(t, cmd.Execute())
	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("account,name\n1,x\n"), 0o600))
	cmd = Command()
	cmd.SetArgs([]string{"accounts", "import", "--data", t.TempDir(), bad})
	require.ErrorContains(t, cmd.Execute(), "nothing imported")
}
