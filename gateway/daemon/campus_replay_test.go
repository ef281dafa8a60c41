package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/posclient"
)

// TestCampusCodeOnceAcrossTerminalsAndKill9: the same campus code scanned
// at two terminals at once is accepted exactly once, and after the gateway
// is killed with SIGKILL and restarted it is still refused.
func TestCampusCodeOnceAcrossTerminalsAndKill9(t *testing.T) {
	skipKill9InShort(t)
	bin := buildGateway(t)
	key, err := issuer.GenerateKey(campuscode.Ed25519, 1, rand.Reader)
	require.NoError(t, err)
	dir := t.TempDir()
	extra := fmt.Sprintf("campuscode:\n  issuers:\n    - {key_id: 1, algorithm: ed25519, public_key: %s}\n", hex.EncodeToString(key.PublicKey()))
	cfg := writeGatewayFiles(t, dir, gwOptions{terminals: 2, extra: extra})
	importAccounts(t, filepath.Join(dir, "gw.db"), 2, 10000)

	dial := func(p *proc, i int) *posclient.Terminal {
		c, err := posclient.Dial(p.addr, 2*time.Second)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return &posclient.Terminal{ID: termOf(i), Merchant: "M00000000000001", TMK: tmk, T: c}
	}
	p := startProc(t, bin, cfg)
	pinListeners(t, cfg, p) // the restart below binds the same ports
	a, b := dial(p, 1), dial(p, 2)
	for _, term := range []*posclient.Terminal{a, b} {
		_, err := term.SignIn(context.Background(), 1)
		require.NoError(t, err)
	}
	syncCard(t, a, cardOf(1))

	now := time.Now()
	dev, err := issuer.NewDevice(key, 1, 1, now.Add(-time.Hour), now.Add(time.Hour), rand.Reader)
	require.NoError(t, err)
	code, err := dev.Code(now)
	require.NoError(t, err)

	var wg sync.WaitGroup
	rcs := make([]string, 2)
	for i, term := range []*posclient.Terminal{a, b} {
		wg.Go(func() {
			resp, _, err := term.Send(context.Background(), term.CodePurchase(code, 700), true)
			if err == nil {
				rcs[i] = posclient.RC(resp)
			}
		})
	}
	wg.Wait()
	require.ElementsMatch(t, []string{"00", "Q4"}, rcs, "exactly one terminal's scan is accepted")

	p.kill9()
	p = startProc(t, bin, cfg)
	defer p.term(t)
	a = dial(p, 1)
	a.STAN, a.Batch, a.MAK = 100, 1, nil
	_, err = a.SignIn(context.Background(), 2)
	require.NoError(t, err)
	resp, _, err := a.Send(context.Background(), a.CodePurchase(code, 700), true)
	require.NoError(t, err)
	require.Equal(t, "Q4", posclient.RC(resp), "still used after kill -9 and restart")
}
