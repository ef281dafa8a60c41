package centre

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
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
	// Token, when set, is sent with every call as "Authorization: Bearer".
	Token config.Secret
	// HTTP replaces the whole client (tests); TLS options are then unused.
	HTTP *http.Client
}

// OptionsFromConfig maps the configuration's centre section and the key
// file's upstream secrets.
func OptionsFromConfig(c config.Centre, k config.UpstreamKeys) Options {
	return Options{
		URL: c.URL, Timeout: c.Timeout,
		CAFile: c.TLS.CAFile, CertFile: c.TLS.CertFile, KeyFile: c.TLS.KeyFile,
		InsecureSkipVerify: c.TLS.InsecureSkipVerify,
		Token:              k.CentreToken,
	}
}

// PaymentsOptionsFromConfig is the payment service's client (standalone
// mode, payments.url): it is reached with the centre's TLS settings and
// token, like every upstream of the campus.
func PaymentsOptionsFromConfig(cfg *config.Config, k *config.Keys) Options {
	o := OptionsFromConfig(cfg.Centre, k.Upstream)
	o.URL = cfg.Payments.URL
	return o
}

func (o *Options) tlsConfig() (*tls.Config, error) {
	if o.TLS != nil {
		return o.TLS, nil
	}
	t := config.TLS{CAFile: o.CAFile, CertFile: o.CertFile, KeyFile: o.KeyFile, InsecureSkipVerify: o.InsecureSkipVerify}
	tc, err := t.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
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
