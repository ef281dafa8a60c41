package paychan

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"ecardgw/gateway/config"
	"ecardgw/gateway/paychan/alipay"
	"ecardgw/gateway/paychan/wechatpay"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// ErrCredentials: a configured channel's credentials are missing from the
// key file or unusable. The message names the key file entry, never a value.
var ErrCredentials = errors.New("paychan: channel credentials")

// CallTimeout bounds one HTTP call to a channel.
const CallTimeout = 15 * time.Second

// Adapters builds the direct adapters the configuration names
// (payments.wechat.url, payments.alipay.url) with the key file's channels
// section. An empty map: no direct channel.
func Adapters(cfg *config.Config, keys *config.Keys) (map[store.Channel]txn.Payments, error) {
	out := map[store.Channel]txn.Payments{}
	ck := keys.Channels
	if w := cfg.Payments.WeChat; w.URL != "" {
		if len(ck.WeChatAPIKey) == 0 {
			return nil, fmt.Errorf("%w: payments.wechat needs channels.wechat_api_key", ErrCredentials)
		}
		base, err := tlsBase(w.CAFile)
		if err != nil {
			return nil, fmt.Errorf("payments.wechat.ca_file: %w", err)
		}
		withCert := base.Clone()
		if len(ck.WeChatCert) > 0 {
			cert, err := tls.X509KeyPair(ck.WeChatCert, ck.WeChatCertKey)
			if err != nil {
				return nil, fmt.Errorf("%w: channels.wechat_cert and wechat_cert_key are not a certificate and its key", ErrCredentials)
			}
			withCert.Certificates = []tls.Certificate{cert}
		} else if strings.HasPrefix(w.URL, "https:") {
			return nil, fmt.Errorf("%w: payments.wechat over https needs channels.wechat_cert (reverse and refund present it)", ErrCredentials)
		}
		c, err := wechatpay.New(wechatpay.Options{URL: w.URL, AppID: w.AppID, MchID: w.MchID, APIKey: ck.WeChatAPIKey,
			HTTP: httpClient(base), CertHTTP: httpClient(withCert), ClientIP: w.ClientIP})
		if err != nil {
			return nil, err
		}
		out[store.ChannelWeChat] = c
	}
	if a := cfg.Payments.Alipay; a.URL != "" {
		priv, pub, err := AlipayKeys(keys)
		if err != nil {
			return nil, err
		}
		base, err := tlsBase(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("payments.alipay.ca_file: %w", err)
		}
		c, err := alipay.New(alipay.Options{URL: a.URL, AppID: a.AppID, PrivateKey: priv, AlipayKey: pub, HTTP: httpClient(base)})
		if err != nil {
			return nil, err
		}
		out[store.ChannelAlipay] = c
	}
	return out, nil
}

// AlipayKeys reads the key file's Alipay keys.
func AlipayKeys(keys *config.Keys) (*rsa.PrivateKey, *rsa.PublicKey, error) {
	ck := keys.Channels
	if len(ck.AlipayAppKey) == 0 || len(ck.AlipayPublicKey) == 0 {
		return nil, nil, fmt.Errorf("%w: payments.alipay needs channels.alipay_app_private_key and alipay_public_key", ErrCredentials)
	}
	priv, err := alipay.ParsePrivateKey(string(ck.AlipayAppKey))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: channels.alipay_app_private_key is not an RSA private key", ErrCredentials)
	}
	pub, err := alipay.ParsePublicKey(string(ck.AlipayPublicKey))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: channels.alipay_public_key is not an RSA public key", ErrCredentials)
	}
	return priv, pub, nil
}

func tlsBase(caFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

func httpClient(tc *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return &http.Client{Timeout: CallTimeout, Transport: tr}
}
