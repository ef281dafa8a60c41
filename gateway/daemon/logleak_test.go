package daemon_test

import (
	"bytes"
	"context"
	"ecardgw/gateway/logging/logtest"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/logging"
	"ecardgw/gateway/posclient"
)

// lockedBuffer collects the log written by many goroutines.
type lockedBuffer = logtest.Buffer

// secrets collects what must never reach the log, and the frames sent and
// received, in every spelling a careless log line could use.
type secrets struct{ items map[string]string }

func (s *secrets) add(what string, b []byte) {
	if s.items == nil {
		s.items = map[string]string{}
	}
	h := hex.EncodeToString(b)
	s.items[h] = what
	s.items[strings.ToUpper(h)] = what
}

func (s *secrets) addText(what, v string) { s.items[v] = what }

// TestLogsCarryNoCardNumbersKeysOrFrames runs a gateway logging at debug
// level through sign-ins, purchases, a refused card, a bad MAC, malformed
// and oversized frames and a reload, then searches the whole log for every
// card number, key and frame of the run.
func TestLogsCarryNoCardNumbersKeysOrFrames(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) { logLeakRun(t, format) })
	}
}

func logLeakRun(t *testing.T, format string) {
	dir := t.TempDir()
	cfgPath := writeGatewayFiles(t, dir, gwOptions{terminals: 2})
	importAccounts(t, filepath.Join(dir, "gw.db"), 4, 100000)
	var logBuf lockedBuffer
	log, err := logging.New(logging.Config{Format: format, Level: "debug", Output: &logBuf})
	require.NoError(t, err)
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	keys, err := config.LoadKeys(cfg.Keys.File)
	require.NoError(t, err)
	d, err := daemon.New(cfg, keys, daemon.Options{ConfigPath: cfgPath, ShutdownTimeout: 5 * time.Second, Logger: log})
	require.NoError(t, err)
	require.NoError(t, d.Start())
	t.Cleanup(func() { _ = d.Stop() })
	addr := d.POSAddr().String()

	var s secrets
	s.add("TMK", tmk)
	s.add("storage key", keys.StorageKey)
	s.add("wallet master load key", keys.WalletMasterLoadKey)
	ctx := context.Background()
	send := func(p *posclient.Terminal, m *iso8583.Message, mak []byte) *iso8583.Message {
		t.Helper()
		req, err := iso8583.AppendFrame(nil, m, mak)
		require.NoError(t, err)
		s.add("request frame", req)
		resp, raw, err := p.SendRaw(ctx, req, m, false)
		require.NoError(t, err)
		s.add("answer frame", raw)
		return resp
	}

	var terms []*posclient.Terminal
	for term := 1; term <= 2; term++ {
		c, err := posclient.Dial(addr, 5*time.Second)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		p := &posclient.Terminal{ID: termOf(term), Merchant: "M00000000000001", TMK: tmk, T: c}
		_, err = p.SignIn(ctx, 1)
		require.NoError(t, err)
		s.add("MAK", p.MAK)
		if p.PIK != nil {
			s.add("PIK", p.PIK)
		}
		terms = append(terms, p)
	}
	for i := 1; i <= 4; i++ {
		s.addText("card number", cardOf(i))
		p := terms[i%2]
		require.Equal(t, "00", posclient.RC(send(p, p.CardPurchase(cardOf(i), int64(100*i), nil), p.MAK)))
	}
	// A card the gateway does not know.
	unknown := cardOf(77)
	s.addText("card number", unknown)
	p := terms[0]
	require.NotEqual(t, "00", posclient.RC(send(p, p.CardPurchase(unknown, 100, nil), p.MAK)))
	// A bad MAC: signed with a key that is not the session's.
	wrong := bytes.Clone(p.MAK)
	for i := range wrong {
		wrong[i] ^= 0x5A
	}
	s.add("wrong MAK", wrong)
	require.Equal(t, "A0", posclient.RC(send(p, p.CardPurchase(cardOf(1), 100, nil), wrong)))
	// Enough bad MACs from the other terminal to drop its session (logged).
	p2 := terms[1]
	for range 5 {
		require.Equal(t, "A0", posclient.RC(send(p2, p2.CardPurchase(cardOf(2), 100, nil), wrong)))
	}

	// Malformed frames on a raw connection: a bitmap announcing a
	// secondary bitmap (bit 1), and a frame longer than the maximum.
	good, err := iso8583.AppendFrame(nil, p.CardPurchase(cardOf(2), 100, nil), p.MAK)
	require.NoError(t, err)
	bad := bytes.Clone(good)
	bad[2+5+6+2] |= 0x80
	s.add("malformed frame", bad)
	rawSend(t, addr, bad)
	huge := append([]byte{0x10, 0x00}, bytes.Repeat([]byte(cardOf(3)), 400)...)
	s.add("oversized frame", huge[:64])
	rawSend(t, addr, huge)

	// A reload that adds a terminal with its own master key.
	newTMK := bytes.Repeat([]byte{0xC3, 0x5E}, 8)
	s.add("reloaded TMK", newTMK)
	keysPath := filepath.Join(dir, "keys.yaml")
	kb, err := os.ReadFile(keysPath)
	require.NoError(t, err)
	kb = bytes.Replace(kb, []byte("terminals:\n"), []byte("terminals:\n  T0000009: "+strings.ToUpper(hex.EncodeToString(newTMK))+"\n"), 1)
	require.NoError(t, os.WriteFile(keysPath, kb, 0o600))
	cb, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	cb = bytes.Replace(cb, []byte("terminals:\n"), []byte("terminals:\n  - {id: T0000009, merchant: M00000000000001, type: pos}\n"), 1)
	require.NoError(t, os.WriteFile(cfgPath, cb, 0o600))
	require.NoError(t, d.Reload())
	require.NoError(t, d.Stop())

	out := logBuf.String()
	require.Contains(t, out, "reloaded terminals and keys", "the log was captured")
	require.Contains(t, out, "DEBUG", "debug records were enabled")
	require.Contains(t, out, "repeated MAC failures")
	for v, what := range s.items {
		require.NotContains(t, out, v, "the log carries a %s", what)
	}
}

// rawSend writes b on a fresh connection and reads until the gateway
// answers or closes.
func rawSend(t *testing.T, addr string, b []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(b)
	require.NoError(t, err)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = posclient.ReadFrame(c)
}
