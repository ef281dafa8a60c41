package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"ecardgw/gateway/forward/natstest"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// TestRecordKeysUniqueInASharedStream: two gateways (gateway.id north and
// south) forward to one JetStream stream, which drops a message whose
// Nats-Msg-Id it already holds. Each journals a service API top-up as its
// first record, and north a small-wallet load with its water record:
// every journal record of both reaches the stream.
func TestRecordKeysUniqueInASharedStream(t *testing.T) {
	srv := natstest.Start(t)
	var gws []*gateway
	for _, id := range []string{"north", "south"} {
		dir := t.TempDir()
		path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, extra: "" +
			"  - {id: S0000001, merchant: M00000000000002, type: settlement, location: Bath house}\n" +
			fmt.Sprintf("gateway: {id: %s}\nforward: {nats: {url: %q, stream: ECARDGW, subject: ecardgw.records}}\n", id, srv.URL())})
		keys := filepath.Join(dir, "keys.yaml")
		k, err := readFile(keys)
		require.NoError(t, err)
		k = strings.Replace(k, "terminals:\n", "terminals:\n  S0000001: 112233445566778899AABBCCDDEEF001\n", 1)
		require.NoError(t, writeFile(keys, k))
		importAccounts(t, filepath.Join(dir, "gw.db"), 2, 10000)
		g := &gateway{t: t, dir: dir, cfg: path}
		g.start()
		gws = append(gws, g)
	}
	for _, g := range gws {
		body := `{"trade_no":"4200000001","channel":"wechat","amount_fen":500,"account":"1"}`
		req, err := http.NewRequest(http.MethodPost, "http://"+g.d.Service.Addr()+"/v1/topups", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("t", 40))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusOK, res.StatusCode)
	}

	ctx := context.Background()
	p, _ := gws[0].dial(1)
	p.ID, p.Merchant = "S0000001", "M00000000000002"
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	for _, l := range []struct {
		balance uint32
		counter uint16
		amount  int64
	}{{0, 0, 1000}, {640, 1, 360}} {
		m := cardReq(p, 200, 190000, cardOf(1), l.amount)
		_ = m.SetBytes(55, walletInit(t, cardOf(1), l.balance, l.counter, uint32(l.amount), false))
		resp, _, err := p.Send(ctx, m, true)
		require.NoError(t, err)
		require.Equal(t, "00", posclient.RC(resp))
	}

	var journaled uint64
	for _, g := range gws {
		require.Eventually(t, func() bool {
			n, err := g.d.Backlog()
			return err == nil && n == 0
		}, 20*time.Second, 20*time.Millisecond)
		require.NoError(t, g.d.DB.View(func(tx *store.Tx) error {
			journaled += tx.JournalLen()
			return nil
		}))
	}
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	s, err := js.Stream(ctx, "ECARDGW")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, journaled, info.State.Msgs, "the stream holds every journal record of both gateways")
}
