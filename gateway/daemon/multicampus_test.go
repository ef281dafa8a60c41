package daemon_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/tlv"
	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/forward/natstest"
	"ecardgw/gateway/posclient"
)

// syncCard sends the first-tap card data sync that activates the account's
// electronic card.
func syncCard(t *testing.T, p *posclient.Terminal, card string) {
	t.Helper()
	serial := "00000000" + card
	var s [10]byte
	for i := range s {
		s[i] = (serial[2*i]-'0')<<4 | (serial[2*i+1] - '0')
	}
	f55 := tlv.Append(nil, 0xDF02, s[:])
	f55 = tlv.Append(f55, 0xDF04, []byte{0, 0, 0, 0})
	f55 = tlv.Append(f55, 0xDF05, []byte{0, 0})
	m := p.New(100, 330000, 0)
	posclient.SetCard(m, card)
	_ = m.SetBytes(55, f55)
	resp, _, err := p.Send(context.Background(), m, true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp))
}

// TestTwoCampusesShareTheReplayRecord: two gateways forward to one
// JetStream and share the campus-code replay record through its key-value
// bucket, so a code used at one campus is refused at the other.
func TestTwoCampusesShareTheReplayRecord(t *testing.T) {
	nats := natstest.Start(t)
	key, err := issuer.GenerateKey(campuscode.Ed25519, 1, rand.Reader)
	require.NoError(t, err)
	extra := fmt.Sprintf("campuscode:\n  issuers:\n    - {key_id: 1, algorithm: ed25519, public_key: %s}\n"+
		"forward: {nats: {url: %q, stream: ECARDGW, subject: ecardgw.records, replay_bucket: CAMPUSCODES}}\n",
		hex.EncodeToString(key.PublicKey()), nats.URL())

	var gws [2]*gateway
	var pos [2]*posclient.Terminal
	for i := range gws {
		dir := t.TempDir()
		path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, extra: extra})
		importAccounts(t, filepath.Join(dir, "gw.db"), 2, 10000)
		gws[i] = &gateway{t: t, dir: dir, cfg: path}
		gws[i].start()
		p, _ := gws[i].dial(1)
		_, err := p.SignIn(context.Background(), 1)
		require.NoError(t, err)
		syncCard(t, p, cardOf(1))
		pos[i] = p
	}

	now := time.Now()
	dev, err := issuer.NewDevice(key, 1, 1, now.Add(-time.Hour), now.Add(time.Hour), rand.Reader)
	require.NoError(t, err)
	code, err := dev.Code(now)
	require.NoError(t, err)

	resp, _, err := pos[0].Send(context.Background(), pos[0].CodePurchase(code, 300), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "first use, campus A")
	resp, _, err = pos[1].Send(context.Background(), pos[1].CodePurchase(code, 300), true)
	require.NoError(t, err)
	require.Equal(t, "Q4", posclient.RC(resp), "the same code at campus B is a replay")
	require.Equal(t, int64(10000), gws[1].balance(1))

	code2, err := dev.Code(now)
	require.NoError(t, err)
	resp, _, err = pos[1].Send(context.Background(), pos[1].CodePurchase(code2, 200), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "a fresh code pays at campus B")

	// Both gateways forward their journals to the one stream.
	for _, g := range gws {
		require.Eventually(t, func() bool {
			n, err := g.d.Backlog()
			return err == nil && n == 0
		}, 10*time.Second, 50*time.Millisecond)
	}
}
