package daemon_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/chanemu"
	"ecardgw/store"
)

// TestChannelsEndToEnd: a standalone gateway with the emulator as WeChat
// Pay and Alipay. A bound payer's WeChat code purchase, a kiosk top-up
// paid with an Alipay code and a WeChat top-up notification all show in
// the person's history (service API and kiosk 300000) and the journal; an
// unbound payer's code gets P1 and the emulator shows the trade reversed.
func TestChannelsEndToEnd(t *testing.T) {
	const (
		wxApp, wxMch, wxKey = "wx2421b1c4370ec43b", "10000100", "8934e7d15453e97507ef794cf7b0519d"
		apApp               = "2014072300007148"
		token               = "tttttttttttttttttttttttttttttttttttttttt"
	)
	appKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	aliKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	emu := chanemu.New(chanemu.Options{WeChatAppID: wxApp, WeChatMchID: wxMch, WeChatAPIKey: []byte(wxKey),
		AlipayAppID: apApp, AppPublicKey: &appKey.PublicKey, AlipayKey: aliKey})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(emu.Close)

	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, extra: "" +
		"  - {id: K0000001, merchant: M00000000000003, type: kiosk}\n" +
		"payments:\n  poll_limit: 2s\n  poll_interval: 20ms\n" +
		fmt.Sprintf("  wechat: {url: %q, app_id: %s, mch_id: %q}\n", srv.URL, wxApp, wxMch) +
		fmt.Sprintf("  alipay: {url: %q, app_id: %q}\n", srv.URL+"/gateway.do", apApp)})
	keysPath := filepath.Join(dir, "keys.yaml")
	k, err := readFile(keysPath)
	require.NoError(t, err)
	k = strings.Replace(k, "terminals:\n", "terminals:\n  K0000001: 112233445566778899AABBCCDDEEF001\n", 1)
	p8, err := x509.MarshalPKCS8PrivateKey(appKey)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&aliKey.PublicKey)
	require.NoError(t, err)
	k += fmt.Sprintf("channels:\n  wechat_api_key: %q\n  alipay_app_private_key: %q\n  alipay_public_key: %q\n", wxKey,
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	require.NoError(t, os.WriteFile(keysPath, []byte(k), 0o600))
	importAccounts(t, filepath.Join(dir, "gw.db"), 2, 10000)
	g := &gateway{t: t, dir: dir, cfg: path}
	g.start()
	ctx := context.Background()
	svc := "http://" + g.d.Service.Addr()
	call := func(method, p string, body any) map[string]any {
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, err := http.NewRequestWithContext(ctx, method, svc+p, rd)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %v", method, p, out)
		return out
	}

	const boundCode, strangerCode, alipayCode = "134567890123450001", "134567890123459999", "286648048691290423"
	call(http.MethodPut, "/v1/accounts/1/bindings/wechat", map[string]string{"payer": emu.PayerOf(chanemu.WeChat, boundCode)})

	pos, _ := g.dial(1)
	_, err = pos.SignIn(ctx, 1)
	require.NoError(t, err)
	kiosk, _ := g.dial(1)
	kiosk.ID, kiosk.Merchant = "K0000001", "M00000000000003"
	_, err = kiosk.SignIn(ctx, 1)
	require.NoError(t, err)

	// 1. A bound payer's WeChat code at the canteen POS.
	purchase := pos.CodePurchase(boundCode, 1200)
	resp, _, err := pos.Send(ctx, purchase, true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.EqualValues(t, 10000, g.balance(1), "the campus balance is not touched")

	// 2. A kiosk top-up paid with an Alipay code.
	m := kiosk.New(200, 210000, 0)
	posclient.SetCard(m, cardOf(1))
	posclient.SetAmount(m, 3000)
	_ = m.SetDigits(22, []byte("031"))
	_ = m.SetString(62, alipayCode)
	resp, _, err = kiosk.Send(ctx, m, true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.EqualValues(t, 13000, g.balance(1))

	// 3. A top-up in the WeChat campus app: the channel's notification.
	status, answer, err := emu.Notify(ctx, chanemu.WeChat, chanemu.TopUp{URL: svc + "/notify/wechat",
		OutTradeNo: "APP0001", AmountFen: 500, Attach: "account=1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, answer, "SUCCESS")
	require.EqualValues(t, 13500, g.balance(1))

	// 4. Someone whose WeChat is bound to nobody: P1, reversed there.
	resp, _, err = pos.Send(ctx, pos.CodePurchase(strangerCode, 800), true)
	require.NoError(t, err)
	require.Equal(t, "P1", posclient.RC(resp))
	var reversed bool
	for _, no := range emuTrades(t, emu, pos.ID) {
		if tr, ok := emu.Trade(chanemu.WeChat, no); ok && tr.Payer == emu.PayerOf(chanemu.WeChat, strangerCode) {
			reversed = tr.State == chanemu.StateReversed
		}
	}
	require.True(t, reversed, "the emulator shows the stranger's trade reversed")

	// The person's history, three ways.
	h := call(http.MethodGet, "/v1/accounts/1/history", nil)["records"].([]any)
	var kinds []string
	for _, r := range h {
		rec := r.(map[string]any)
		kinds = append(kinds, fmt.Sprintf("%s/%s/%v", rec["kind"], rec["channel"], rec["amount_fen"]))
	}
	require.ElementsMatch(t, []string{"purchase/WECHAT/1200", "topup/ALIPAY/3000", "topup/WECHAT/500"}, kinds)

	hm := kiosk.New(100, 300000, 0)
	posclient.SetCard(hm, cardOf(1))
	resp, _, err = kiosk.Send(ctx, hm, true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, byte(3), resp.Bytes(62)[0], "kiosk 300000 lists all three")

	var journal []string
	require.NoError(t, g.d.DB.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			journal = append(journal, fmt.Sprintf("%d/%s/%s/%s", r.Account, r.Kind, r.Channel, r.Resp))
			return nil
		})
	}))
	require.Subset(t, journal, []string{"1/purchase/WECHAT/00", "1/topup/ALIPAY/00", "1/topup/WECHAT/00"})
	require.Contains(t, strings.Join(journal, " "), "/purchase/WECHAT/P1")

	// The POS reverses the bound purchase: answered at once, and given
	// back at WeChat by the payment retry queue right after.
	resp, _, err = pos.Send(ctx, pos.Reversal(purchase, "98"), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
	var refunded int64
	require.Eventually(t, func() bool {
		for _, no := range emuTrades(t, emu, pos.ID) {
			if tr, ok := emu.Trade(chanemu.WeChat, no); ok && tr.Payer == emu.PayerOf(chanemu.WeChat, boundCode) {
				refunded = tr.RefundedFen
			}
		}
		return refunded == 1200
	}, 10*time.Second, 50*time.Millisecond, "refunded %d", refunded)

	// Someone still typing a password at payments.poll_limit: the gateway
	// gives up (98) and Alipay shows the trade closed.
	emu.SetScript(chanemu.Alipay, chanemu.Script{UserPaying: -1})
	resp, _, err = pos.Send(ctx, pos.CodePurchase(alipayCode, 700), true)
	require.NoError(t, err)
	require.Equal(t, "98", posclient.RC(resp))
	require.Eventually(t, func() bool {
		closed := false
		for _, no := range emuTrades(t, emu, pos.ID) {
			if tr, ok := emu.Trade(chanemu.Alipay, no); ok {
				closed = tr.State == chanemu.StateClosed && tr.TotalFen == 700
			}
		}
		return closed
	}, 10*time.Second, 50*time.Millisecond, "cancelled at the channel")
}

// emuTrades lists the trade numbers the gateway could have used for a
// terminal's first requests (terminal, batch 1, STAN 1..20, MTI 200).
func emuTrades(t *testing.T, _ *chanemu.Emulator, term string) []string {
	var out []string
	for stan := 1; stan <= 20; stan++ {
		out = append(out, fmt.Sprintf("%s%06d%06d%04d", term, 1, stan, 200))
	}
	return out
}
