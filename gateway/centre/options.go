package centre

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"ecardgw/gateway/config"
)

// DefaultTimeout bounds an online authorization: beyond it the gateway
// stands in (rules.md, "Stand-in").
const DefaultTimeout = 1500 * time.Millisecond

// DefaultCallTimeout bounds every other call (payments, sync, delivery),
// which nobody at a POS is waiting on with a 1.5 s budget.
const DefaultCallTimeout = 10 * time.Second

// Options configure a Client.
type Options struct {
	// URL is the centre's base URL ("https://centre.campus.example/api");
	// the interface paths are appended to it.
	URL string
	// Timeout bounds Authorize (default 1.5 s).
	Timeout time.Duration
	// CallTimeout bounds the other calls (default 10 s).
	CallTimeout time.Duration
	// TLS is used as is when set; otherwise one is built from the files.
	TLS *tls.Config
	// CAFile verifies the centre's certificate (default: system roots);
	// CertFile and KeyFile are the gateway's client certificate.
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
	// HTTP replaces the whole client (tests); TLS options are then unused.
	HTTP *http.Client
}

// OptionsFromConfig maps the configuration's centre section.
func OptionsFromConfig(c config.Centre) Options {
	return Options{
		URL: c.URL, Timeout: c.Timeout,
		CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
		InsecureSkipVerify: c.TLS.InsecureSkipVerify,
	}
}

func (o *Options) tlsConfig() (*tls.Config, error) {
	if o.TLS != nil {
		return o.TLS, nil
	}
	if o.CAFile == "" && o.CertFile == "" && o.KeyFile == "" && !o.InsecureSkipVerify {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // operator's explicit choice, warned about by config
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ca file: %w", ErrBadOptions, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca file holds no PEM certificate", ErrBadOptions)
		}
		tc.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, fmt.Errorf("%w: cert file and key file must be set together", ErrBadOptions)
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			// The error of LoadX509KeyPair names files, never key bytes.
			return nil, fmt.Errorf("%w: client certificate: %w", ErrBadOptions, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func parseBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: url must be http(s)://host[:port][/path]", ErrBadOptions)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: url must not have a query or fragment", ErrBadOptions)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
