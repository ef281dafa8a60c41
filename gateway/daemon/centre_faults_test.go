package daemon_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/refcentre"
)

// TestCentreFaults: in connected mode, with the centre slow, down,
// flapping, answering garbage after doing the work, or doing every request
// twice, purchases are answered (online or stood in within the limits),
// and once the centre behaves again and the backlog has drained, the
// centre's ledger shows each approved purchase exactly once and nothing
// that was declined: card by card, the centre's debit equals what the
// terminals were told was approved. Nothing is set aside as a dead letter.
func TestCentreFaults(t *testing.T) {
	cases := []struct {
		name   string
		faults refcentre.Faults
	}{
		{"slow", refcentre.Faults{LatencyMS: 600}},
		{"down", refcentre.Faults{Down: true}},
		{"flapping", refcentre.Faults{FlapEvery: 2}},
		{"garbage", refcentre.Faults{Garbage: true}},
		{"twice", refcentre.Faults{Twice: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const accounts, balance = 4, int64(100000)
			c, addr := startCentre(t, accounts, balance)
			dir := t.TempDir()
			path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, mode: "connected",
				extra: "centre: {url: http://" + addr + ", timeout: 300ms}\n"})
			importAccounts(t, filepath.Join(dir, "gw.db"), accounts, balance)
			g := &gateway{t: t, dir: dir, cfg: path}
			g.start()
			ctx := context.Background()
			p, _ := g.dial(1)
			_, err := p.SignIn(ctx, 1)
			require.NoError(t, err)
			// One online purchase first, so the replica and the centre
			// agree on a live account.
			resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 100, nil), true)
			require.NoError(t, err)
			require.Equal(t, "00", posclient.RC(resp))
			approved := make([]int64, accounts+1)
			approved[1] = 100

			c.SetFaults(tc.faults)
			rcs := map[string]int{}
			for n := range 12 {
				acct := 1 + n%accounts
				amt := int64(101 + n)
				resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(acct), amt, nil), true)
				require.NoError(t, err)
				rc := posclient.RC(resp)
				rcs[rc]++
				switch rc {
				case "00":
					approved[acct] += amt
				case "91", "96":
				default:
					t.Fatalf("purchase under %s answered %s", tc.name, rc)
				}
			}
			t.Logf("%s: answers %v", tc.name, rcs)
			require.Positive(t, rcs["00"], "nothing approved under %s (stand-in)", tc.name)

			c.SetFaults(refcentre.Faults{})
			require.Eventually(t, func() bool {
				n, err := g.d.Backlog()
				return err == nil && n == 0
			}, 20*time.Second, 50*time.Millisecond, "the backlog drains when the centre behaves")
			for acct := 1; acct <= accounts; acct++ {
				require.Equal(t, balance-approved[acct], centreBalance(t, c, uint64(acct)),
					"account %d: the centre's debit differs from what was approved", acct)
			}
			require.LessOrEqual(t, metric(g.scrape(), "ecardgw_forwarder_dead_letters_total"), 0.0)
		})
	}
}
