package config

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// WeChatPay configures the direct WeChat Pay adapter (gateway/paychan/
// wechatpay). With url empty, WeChat codes go to payments.url (or the
// centre) as before. Its secrets are the key file's channels section.
type WeChatPay struct {
	URL      string `mapstructure:"url"` // https://api.mch.weixin.qq.com, or the emulator's
	AppID    string `mapstructure:"app_id"`
	MchID    string `mapstructure:"mch_id"`
	ClientIP string `mapstructure:"client_ip"` // spbill_create_ip: this box's address
	CAFile   string `mapstructure:"ca_file"`   // verifies the channel's server (default: system roots)
	// Insecure allows a plain http:// URL to a host that is not loopback.
	Insecure bool `mapstructure:"insecure"`
}

// AlipayPay configures the direct Alipay adapter (gateway/paychan/alipay).
type AlipayPay struct {
	URL      string `mapstructure:"url"` // https://openapi.alipay.com/gateway.do, or the emulator's
	AppID    string `mapstructure:"app_id"`
	CAFile   string `mapstructure:"ca_file"`
	Insecure bool   `mapstructure:"insecure"`
}

// WeChatMaxPollLimit: WeChat revokes an unpaid payment-code order after
// about 45 s; the gateway must reverse it itself before.
const WeChatMaxPollLimit = 45 * time.Second

var (
	reWeChatAppID = regexp.MustCompile(`^wx[0-9a-f]{16}$`)
	reMchID       = regexp.MustCompile(`^[0-9]{6,12}$`)
	reAlipayAppID = regexp.MustCompile(`^[0-9]{16}$`)
)

func (c *Config) validateChannels(ck *checker) {
	w := c.Payments.WeChat
	if ck.httpURL("payments.wechat.url", "payments.wechat", w.URL, w.Insecure) {
		if !reWeChatAppID.MatchString(w.AppID) {
			ck.bad("payments.wechat.app_id", "want wx and 16 hex digits")
		}
		if !reMchID.MatchString(w.MchID) {
			ck.bad("payments.wechat.mch_id", "want 6 to 12 digits")
		}
		if w.ClientIP != "" && net.ParseIP(w.ClientIP) == nil {
			ck.bad("payments.wechat.client_ip", "%q is not an IP address", w.ClientIP)
		}
		if c.Payments.PollLimit > WeChatMaxPollLimit {
			ck.bad("payments.poll_limit", "must be at most %s with payments.wechat (WeChat revokes an unpaid order after 45 s)", WeChatMaxPollLimit)
		}
		if w.CAFile != "" {
			ck.existingFile("payments.wechat.ca_file", w.CAFile)
		}
	}
	a := c.Payments.Alipay
	if ck.httpURL("payments.alipay.url", "payments.alipay", a.URL, a.Insecure) {
		if !reAlipayAppID.MatchString(a.AppID) {
			ck.bad("payments.alipay.app_id", "want 16 digits")
		}
		if a.CAFile != "" {
			ck.existingFile("payments.alipay.ca_file", a.CAFile)
		}
	}
}

// ChannelKeys are the payment channels' merchant credentials (key file
// section channels). They never leave the key file.
type ChannelKeys struct {
	WeChatAPIKey    Secret // API v2 key, 32 characters
	WeChatCert      Secret // apiclient_cert.pem (PEM): presented on reverse and refund
	WeChatCertKey   Secret // apiclient_key.pem (PEM)
	AlipayAppKey    Secret // the application's RSA private key (PEM or base64)
	AlipayPublicKey Secret // the Alipay public key (PEM or base64)
}

const maxChannelSecretLen = 16 << 10

func (p *keyParser) channels(n *yaml.Node, c *ChannelKeys) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.bad("channels", "want a mapping of wechat_api_key, wechat_cert, wechat_cert_key, alipay_app_private_key, alipay_public_key")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, val := n.Content[i], n.Content[i+1]
		if name.Kind != yaml.ScalarNode || !safeName.MatchString(name.Value) {
			p.bad(fmt.Sprintf("channels (line %d)", name.Line), "unknown key")
			continue
		}
		entry := "channels." + name.Value
		if seen[name.Value] {
			p.bad(entry, "appears twice")
			continue
		}
		seen[name.Value] = true
		var s Secret
		switch {
		case val.Kind != yaml.ScalarNode:
			p.bad(entry, "want a string")
			continue
		case val.Value == "" || len(val.Value) > maxChannelSecretLen:
			p.bad(entry, "want 1 to %d characters", maxChannelSecretLen)
			continue
		default:
			s = Secret(val.Value)
		}
		switch name.Value {
		case "wechat_api_key":
			if len(val.Value) != 32 || !tokenChars(val.Value) {
				p.bad(entry, "want the 32-character API v2 key")
				continue
			}
			c.WeChatAPIKey = s
		case "wechat_cert":
			c.WeChatCert = p.pemSecret(entry, s, "CERTIFICATE")
		case "wechat_cert_key":
			c.WeChatCertKey = p.pemSecret(entry, s, "PRIVATE KEY")
		case "alipay_app_private_key":
			c.AlipayAppKey = s
		case "alipay_public_key":
			c.AlipayPublicKey = s
		default:
			p.bad(entry, "unknown key")
		}
	}
	if seen["wechat_cert"] != seen["wechat_cert_key"] {
		p.bad("channels.wechat_cert", "wechat_cert and wechat_cert_key go together")
	}
}

func (p *keyParser) pemSecret(entry string, s Secret, kind string) Secret {
	if !strings.Contains(string(s), "-----BEGIN ") || !strings.Contains(string(s), kind+"-----") {
		p.bad(entry, "want a PEM %s", kind)
		return nil
	}
	return s
}

// marshal appends the channels section when any secret is set.
func (c ChannelKeys) marshal(b *strings.Builder) {
	entries := []struct {
		name string
		v    Secret
	}{
		{"wechat_api_key", c.WeChatAPIKey},
		{"wechat_cert", c.WeChatCert},
		{"wechat_cert_key", c.WeChatCertKey},
		{"alipay_app_private_key", c.AlipayAppKey},
		{"alipay_public_key", c.AlipayPublicKey},
	}
	head := false
	for _, e := range entries {
		if len(e.v) == 0 {
			continue
		}
		if !head {
			b.WriteString("channels:\n")
			head = true
		}
		fmt.Fprintf(b, "  %s: %q\n", e.name, string(e.v))
	}
}
