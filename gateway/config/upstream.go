package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// Upstream links (the centre, the payment service and NATS) share one
// model of protection:
//
//   - TLS (a TLS section: ca_file, cert_file, key_file,
//     insecure_skip_verify) is the same type everywhere and is built into a
//     client configuration by TLS.ClientConfig. Certificates are public and
//     are named by path in the configuration; a private key file (and a NATS
//     nkey seed file) is named by path too, but Load refuses it unless only
//     its owner can read it, as LoadKeys does for the key file.
//   - Secrets that are strings (the centre's bearer token, NATS user and
//     password or token) live only in the key file, under upstream.
//   - A link that is not encrypted (http://, nats:// or ws:// without a
//     TLS section) to a host other than loopback is refused unless its
//     section says insecure: true, and is then warned about. Loopback
//     (127.0.0.0/8, ::1, localhost) needs nothing: tests and demos run
//     everything on one box. Load only parses: it never resolves a name or
//     dials, so any name but localhost counts as another host.

// Configured reports whether anything of the TLS section is set.
func (t TLS) Configured() bool {
	return t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.InsecureSkipVerify
}

// ErrTLSFiles wraps the problems ClientConfig finds in the files.
var ErrTLSFiles = errors.New("upstream TLS files")

// ClientConfig builds the client side of a TLS connection: the CA file
// (default: the system roots) and the client certificate. It returns nil
// when nothing is configured. Its errors name files, never key bytes.
func (t TLS) ClientConfig() (*tls.Config, error) {
	if !t.Configured() {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // operator's explicit choice, warned about by Load
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ca file: %w", ErrTLSFiles, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca file %s holds no PEM certificate", ErrTLSFiles, t.CAFile)
		}
		tc.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, fmt.Errorf("%w: cert file and key file must be set together", ErrTLSFiles)
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			// The error of LoadX509KeyPair names files, never key bytes.
			return nil, fmt.Errorf("%w: client certificate: %w", ErrTLSFiles, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// loopbackHost reports whether host (as in a URL, without brackets) is
// this machine: localhost or a loopback address. No name is resolved.
func loopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// plainLink checks one upstream URL that is not encrypted: refused to a
// host that is not loopback unless insecure, warned about when allowed.
func (ck *checker) plainLink(key, section string, u *url.URL, insecure bool) {
	if loopbackHost(u.Hostname()) {
		return
	}
	if !insecure {
		ck.bad(key, "%s://%s is not encrypted and not on this machine; use TLS, or set %s.insecure: true to send over the network in clear text",
			u.Scheme, u.Host, section)
		return
	}
	ck.warn("%s: %s://%s is not encrypted (%s.insecure is true): anyone on the network path can read and change what is sent",
		key, u.Scheme, u.Host, section)
}

// tlsFiles checks a TLS section's files: they must exist, and the private
// key must be readable by its owner only.
func (ck *checker) tlsFiles(section string, t TLS) {
	ck.existingFile(section+".ca_file", t.CAFile)
	ck.existingFile(section+".cert_file", t.CertFile)
	ck.privateFile(section+".key_file", t.KeyFile)
	if (t.CertFile == "") != (t.KeyFile == "") {
		ck.bad(section, "cert_file and key_file must be set together")
	}
	if t.InsecureSkipVerify {
		ck.warn("%s.insecure_skip_verify is true; the server's certificate is not checked", section)
	}
}

// privateFile is existingFile for a file holding a private key: group and
// others must have no access to it.
func (ck *checker) privateFile(key, p string) {
	st := ck.existingFile(key, p)
	if st == nil {
		return
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		ck.bad(key, "%q has mode %04o; a private key must not be readable by group or others (chmod 600)", p, perm)
	}
}
