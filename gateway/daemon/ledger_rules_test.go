package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// TestTerminalAndServiceAPIObeyOneLedger: a kiosk's fee and the service
// API's fee meet the same rules (gateway/ledger) on the same account
// states, and both journal the same response code: active and covered
// 00, balance short 51, card lost 41, account frozen or cancelled 62. A
// top-up that would pass the balance limit is refused by both, never
// wrapped.
func TestTerminalAndServiceAPIObeyOneLedger(t *testing.T) {
	g := startGateway(t, gwOptions{terminals: 1, kiosks: 1, accounts: 5, balance: 1000})
	ctx := context.Background()
	setAccount := func(no uint64, st store.Status, bal int64) {
		require.NoError(t, g.d.DB.Update(ctx, func(tx *store.Tx) error {
			a, _, err := tx.Account(no)
			if err != nil {
				return err
			}
			a.Status, a.BalanceFen = st, bal
			return tx.PutAccount(&a)
		}))
	}
	kiosk, _ := g.dial(1)
	kiosk.ID, kiosk.Merchant = "K0000001", "M00000000000003"
	_, err := kiosk.SignIn(ctx, 1)
	require.NoError(t, err)
	lastResp := func() string {
		var resp string
		require.NoError(t, g.d.DB.View(func(tx *store.Tx) error {
			recs, err := tx.LastJournal(1, 0)
			if len(recs) > 0 {
				resp = recs[0].Resp
			}
			return err
		}))
		return resp
	}
	post := func(path, body string) int { return servicePost(t, g.d.Service.Addr(), path, body) }
	n := 0
	for _, tc := range []struct {
		name string
		st   store.Status
		bal  int64
		want string
	}{
		{"covered", store.StatusActive, 1000, "00"},
		{"short", store.StatusActive, 100, "51"},
		{"lost", store.StatusLost, 1000, "41"},
		{"frozen", store.StatusFrozen, 1000, "62"},
		{"cancelled", store.StatusCancelled, 1000, "62"},
	} {
		setAccount(2, tc.st, tc.bal)
		m := kiosk.New(200, 170000, 0)
		posclient.SetCard(m, cardOf(2))
		posclient.SetAmount(m, 500)
		_ = m.SetString(63, "NET:2")
		resp, _, err := kiosk.Send(ctx, m, true)
		require.NoError(t, err)
		// A card-present request for a lost card is refused before the
		// ledger is asked (the terminal keeps the card): the same 41.
		require.Equal(t, tc.want, posclient.RC(resp), "kiosk fee, %s", tc.name)
		require.Equal(t, tc.want, lastResp(), "kiosk fee journaled, %s", tc.name)

		setAccount(2, tc.st, tc.bal)
		n++
		st := post("/v1/fees", fmt.Sprintf(`{"request_id":"F-%d","account":"2","type":"net","target":"NET:2","amount_fen":500}`, n))
		require.Equal(t, tc.want, lastResp(), "service fee journaled, %s (HTTP %d)", tc.name, st)
	}

	setAccount(3, store.StatusActive, store.MaxBalanceFen)
	require.Equal(t, http.StatusUnprocessableEntity, post("/v1/topups",
		`{"trade_no":"T-1","channel":"wechat","amount_fen":1,"account":"3"}`))
	require.Equal(t, "61", lastResp())
}
