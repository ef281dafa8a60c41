package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestChannelConfig(t *testing.T) {
	write := func(t *testing.T, body string) string {
		path := filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(path, []byte("listen: {pos: 127.0.0.1:1}\n"+body), 0o600))
		return path
	}
	t.Setenv("ECARDGW_PAYMENTS_WECHAT_URL", "http://127.0.0.1:8490")
	t.Setenv("ECARDGW_PAYMENTS_ALIPAY_URL", "http://127.0.0.1:8490/gateway.do")
	c, err := Load(write(t, "payments:\n  wechat: {app_id: wx2421b1c4370ec43b, mch_id: \"10000100\"}\n  alipay: {app_id: \"2014072300007148\"}\n"))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8490", c.Payments.WeChat.URL)
	require.Equal(t, "http://127.0.0.1:8490/gateway.do", c.Payments.Alipay.URL)

	_, err = Load(write(t, "payments:\n  wechat: {app_id: wx1, mch_id: x}\n  alipay: {app_id: \"1\"}\n"))
	require.ErrorContains(t, err, "payments.wechat.app_id")
	require.ErrorContains(t, err, "payments.wechat.mch_id")
	require.ErrorContains(t, err, "payments.alipay.app_id")

	// WeChat revokes an unpaid order after 45 s: the gateway reverses first.
	_, err = Load(write(t, "payments:\n  poll_limit: 50s\n  wechat: {app_id: wx2421b1c4370ec43b, mch_id: \"10000100\"}\n  alipay: {app_id: \"2014072300007148\"}\n"))
	require.ErrorContains(t, err, "payments.poll_limit")
}

func TestChannelKeys(t *testing.T) {
	base := "wallet_master_load_key: \"00112233445566778899aabbccddeeff\"\nstorage_key: \"" +
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"\n"
	k, err := parseKeys([]byte(base + "channels:\n  wechat_api_key: \"8934e7d15453e97507ef794cf7b0519d\"\n" +
		"  alipay_app_private_key: \"MIIEvQ==\"\n  alipay_public_key: \"MIIBIj==\"\n"))
	require.NoError(t, err)
	require.Equal(t, "8934e7d15453e97507ef794cf7b0519d", string(k.Channels.WeChatAPIKey))
	again, err := parseKeys(k.Marshal())
	require.NoError(t, err)
	require.Equal(t, k.Channels, again.Channels)

	_, err = parseKeys([]byte(base + "channels:\n  wechat_api_key: short\n"))
	require.ErrorContains(t, err, "channels.wechat_api_key")
	require.NotContains(t, err.Error(), "short", "a secret is never echoed")
	_, err = parseKeys([]byte(base + "channels:\n  wechat_cert: \"-----BEGIN CERTIFICATE-----\"\n"))
	require.ErrorContains(t, err, "go together")
	_, err = parseKeys([]byte(base + "channels:\n  bogus: x\n"))
	require.ErrorContains(t, err, "channels.bogus")
}
