package daemon_test

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/config"
	"ecardgw/gateway/posclient"
)

// TestNoSecretsInLogsMetricsOrErrors drives a gateway through good and bad
// traffic (unknown cards, lost MACs, malformed frames, sign-ins, a disk
// that fills) and then checks that no full card number, master key,
// working key, storage key, wallet key or service token appears in its log
// (debug level), /metrics, /status, or the errors that bad key and
// configuration files produce.
func TestNoSecretsInLogsMetricsOrErrors(t *testing.T) {
	g, logs := startLogged(t, gwOptions{}, nil)
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	secrets := map[string]string{
		"terminal master key":    hex.EncodeToString(tmk),
		"wallet master load key": "0123456789abcdeffedcba9876543210",
		"storage key":            strings.Repeat("ab", 32),
		"service token":          strings.Repeat("t", 40),
		"MAK":                    hex.EncodeToString(p.MAK),
		"PIK":                    hex.EncodeToString(p.PIK),
	}
	for i := 1; i <= 8; i++ {
		secrets["card "+cardOf(i)] = cardOf(i)
	}
	unknown := "998877665544"
	secrets["unknown card"] = unknown

	for _, card := range []string{cardOf(1), cardOf(2), unknown} {
		resp, _, err := p.Send(ctx, p.CardPurchase(card, 12, nil), true)
		require.NoError(t, err)
		require.NotEmpty(t, posclient.RC(resp))
		_, _, err = p.Send(ctx, p.CardInquiry(card), true)
		require.NoError(t, err)
	}
	// Wrong MACs (a session drop after five), a malformed message
	// carrying a card number, a frame too long.
	for range 6 {
		m := p.CardPurchase(cardOf(3), 5, nil)
		req, err := iso8583.AppendFrame(nil, m, []byte{9, 9, 9, 9, 9, 9, 9, 9})
		require.NoError(t, err)
		_, _, err = p.SendRaw(ctx, req, m, false)
		require.NoError(t, err)
	}
	bad, err := iso8583.AppendFrame(nil, p.CardPurchase(cardOf(4), 5, nil), p.MAK)
	require.NoError(t, err)
	bad[len(bad)-20] = 'Z' // inside the MAC'd body: breaks a field's charset
	c, err := net.Dial("tcp", g.addr)
	require.NoError(t, err)
	_, _ = c.Write(bad)
	_, _ = c.Write([]byte{0xFF, 0xFF})
	readUntilClosed(t, c, 5*time.Second)
	_ = c.Close()
	// A sign-in storm and a full store, for their log lines.
	for range 10 {
		_, _ = p.SignIn(ctx, 1)
	}
	require.NoError(t, g.d.DB.SetMaxSize(1))
	_, _, _ = p.Send(ctx, p.CardPurchase(cardOf(5), 7, nil), true)
	require.NoError(t, g.d.DB.SetMaxSize(0))

	surfaces := map[string]string{"log": logs.String(), "metrics": g.scrape(), "status": httpGet(t, "http://"+g.d.Admin.Addr()+"/status")}
	surfaces["config and key file errors"] = badFileErrors(t, secrets)
	for where, text := range surfaces {
		require.NotEmpty(t, text, where)
		low := strings.ToLower(text)
		for what, s := range secrets {
			require.NotContains(t, low, strings.ToLower(s), "%s shows the %s", where, what)
		}
	}
	// The log does name the terminal and the masked card where it helps.
	require.Contains(t, logs.String(), termOf(1))
}

func httpGet(t *testing.T, url string) string {
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// badFileErrors loads key and configuration files that are wrong in ways
// that put a secret next to the mistake, and returns their error texts.
// (Configuration errors quote the offending value of ordinary settings on
// purpose; the configuration holds no secrets, the key file does.)
func badFileErrors(t *testing.T, secrets map[string]string) string {
	dir := t.TempDir()
	tm := strings.ToUpper(secrets["terminal master key"])
	keyFiles := []string{
		"terminals:\n  T0000001: " + tm + "0\n",          // odd length
		"terminals:\n  T0000001: " + tm[:30] + "\n",      // too short
		"terminals:\n  T0000001: " + tm + tm + tm + "\n", // too long
		"terminals:\n  T0000001: " + tm + "\nstorage_key: " + secrets["storage key"] + "XY\n",
		"terminals:\n  T0000001: " + tm + "\nwallet_master_load_key: " + secrets["wallet master load key"] + "0\n",
		"terminals: [" + tm + "]\n",
		"terminals:\n  T0000001: " + tm + "\nservice_tokens: [" + secrets["service token"][:10] + "]\n",
		"terminals:\n  T0000001: " + tm + "\nstorage_key: " + secrets["storage key"] + "\n", // mode below
	}
	var all strings.Builder
	for i, body := range keyFiles {
		path := filepath.Join(dir, "keys.yaml")
		mode := os.FileMode(0o600)
		if i == len(keyFiles)-1 {
			mode = 0o644
		}
		require.NoError(t, os.WriteFile(path, []byte(body), mode))
		require.NoError(t, os.Chmod(path, mode))
		_, err := config.LoadKeys(path)
		require.Error(t, err, "key file %d", i)
		all.WriteString(err.Error() + "\n")
	}
	return all.String()
}
