package chanemu_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/cli"
	"ecardgw/gateway/config"
	"ecardgw/gateway/paychan"
	"ecardgw/gateway/testbed/chanemu"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// TestDemoMakesTheGatewaysChannelsTheEmulator: after "ecardgw demo init"
// and an accounts import, "chanemu demo" gives the gateway's key file the
// credentials the emulator's key file accepts, and binds the demo payers:
// the gateway's adapters then pay at the emulator, as make run
// CHANNELS=emulator does.
func TestDemoMakesTheGatewaysChannelsTheEmulator(t *testing.T) {
	t.Chdir(t.TempDir())
	root := cli.NewRoot()
	root.SetArgs([]string{"demo", "init", "--dir", "./var"})
	root.SetOut(&bytes.Buffer{})
	require.NoError(t, root.Execute())
	root = cli.NewRoot()
	root.SetArgs([]string{"accounts", "import", "--config", "./var/ecardgw.yaml", "./var/accounts.csv"})
	root.SetOut(&bytes.Buffer{})
	require.NoError(t, root.Execute())

	emu := chanemu.Command()
	emu.SetArgs([]string{"demo", "--config", "./var/ecardgw.yaml"})
	var out bytes.Buffer
	emu.SetOut(&out)
	require.NoError(t, emu.Execute())
	require.Contains(t, out.String(), "demo payers bound")
	st, err := os.Stat(filepath.Join("var", "chanemu.yaml"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	o, err := chanemu.LoadKeyFile(filepath.Join("var", "chanemu.yaml"))
	require.NoError(t, err)
	o.WeChatPayer, o.AlipayPayer = chanemu.DemoWeChatPayer, chanemu.DemoAlipayPayer
	e := chanemu.New(o)
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)

	cfg, err := config.Load("./var/ecardgw.yaml")
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	cfg.Payments.WeChat = config.WeChatPay{URL: srv.URL, AppID: chanemu.DemoWeChatAppID, MchID: chanemu.DemoWeChatMchID}
	cfg.Payments.Alipay = config.AlipayPay{URL: srv.URL + "/gateway.do", AppID: chanemu.DemoAlipayAppID}
	direct, err := paychan.Adapters(cfg, keys)
	require.NoError(t, err)
	db, err := store.Open(cfg.Store.Path, store.Options{StorageKey: keys.StorageKey})
	require.NoError(t, err)
	defer db.Close()
	ch := paychan.New(db, direct, nil, nil)
	for i, c := range map[store.Channel]string{store.ChannelWeChat: "134567890123456789", store.ChannelAlipay: "286648048691290423"} {
		res, err := ch.Pay(context.Background(), txn.PayRequest{TradeNo: "DEMO" + string(i), Channel: i, AuthCode: c, Amount: 100})
		require.NoError(t, err, i)
		require.Equal(t, txn.PayPaid, res.Status, i)
		require.NotZero(t, res.Account, "the demo payer is bound")
	}
}

// TestMakefileUsesTheDemoMerchant: make run CHANNELS=emulator gives the
// gateway the demo merchant's ids through the environment.
func TestMakefileUsesTheDemoMerchant(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "Makefile"))
	require.NoError(t, err)
	for _, want := range []string{"ECARDGW_PAYMENTS_WECHAT_APP_ID=" + chanemu.DemoWeChatAppID,
		"ECARDGW_PAYMENTS_WECHAT_MCH_ID=" + chanemu.DemoWeChatMchID, "ECARDGW_PAYMENTS_ALIPAY_APP_ID=" + chanemu.DemoAlipayAppID,
		"chanemu demo --config", "--demo-payers"} {
		require.Contains(t, string(b), want)
	}
}
