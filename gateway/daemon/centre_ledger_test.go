package daemon_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/ledgercheck"
	"ecardgw/gateway/testbed/refcentre"
)

// connectedWithKiosk starts a connected gateway with POS T0000001, kiosk
// K0000001 and settlement POS S0000001 against the reference centre at
// addr.
func connectedWithKiosk(t *testing.T, addr string, accounts int, balance int64) *gateway {
	t.Helper()
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1, mode: "connected", extra: "" +
		"  - {id: K0000001, merchant: M00000000000003, type: kiosk}\n" +
		"  - {id: S0000001, merchant: M00000000000002, type: settlement, location: Bath house}\n" +
		"centre: {url: http://" + addr + ", timeout: 1s}\n"})
	keys := filepath.Join(dir, "keys.yaml")
	k, err := readFile(keys)
	require.NoError(t, err)
	k = strings.Replace(k, "terminals:\n", "terminals:\n  K0000001: 112233445566778899AABBCCDDEEF001\n  S0000001: 112233445566778899AABBCCDDEEF001\n", 1)
	require.NoError(t, writeFile(keys, k))
	importAccounts(t, filepath.Join(dir, "gw.db"), accounts, balance)
	g := &gateway{t: t, dir: dir, cfg: path}
	g.start()
	return g
}

func (g *gateway) signedIn(ctx context.Context, id, merchant string) *posclient.Terminal {
	g.t.Helper()
	p, _ := g.dial(1)
	p.ID, p.Merchant = id, merchant
	_, err := p.SignIn(ctx, 1)
	require.NoError(g.t, err)
	return p
}

// answeredBalance is the account balance (type 10) of an answer's field 54.
func answeredBalance(t *testing.T, resp *iso8583.Message) int64 {
	t.Helper()
	bals, err := iso8583.ParseBalances(resp.Bytes(54), nil)
	require.NoError(t, err)
	for _, b := range bals {
		if string(b.Account[:]) == "10" {
			return b.Amount
		}
	}
	t.Fatalf("no account balance in field 54")
	return 0
}

func kioskTopUp(p *posclient.Terminal, card string, amount int64, code string) *iso8583.Message {
	m := p.New(200, 210000, 0)
	_ = m.SetDigits(2, []byte(card))
	_ = m.SetUint(4, uint64(amount))
	_ = m.SetDigits(22, []byte("031"))
	_ = m.SetUint(25, 0)
	_ = m.SetString(49, "156")
	_ = m.SetString(62, code)
	return m
}

// TestConnectedTopUpAndAdviceReachTheCentre: in connected mode a kiosk
// top-up paid with a WeChat code and an offline advice are applied by the
// centre from their records, once: after the outbox drains the balance
// inquiry (answered by the centre) shows them, and the gateway's balance
// equals the centre's.
func TestConnectedTopUpAndAdviceReachTheCentre(t *testing.T) {
	c, addr := startCentre(t, 2, 10000)
	g := connectedWithKiosk(t, addr, 2, 10000)
	ctx := context.Background()
	kiosk := g.signedIn(ctx, "K0000001", "M00000000000003")
	pos := g.signedIn(ctx, termOf(1), "M00000000000001")
	send := func(p *posclient.Terminal, m *iso8583.Message) *iso8583.Message {
		t.Helper()
		resp, _, err := p.Send(ctx, m, true)
		require.NoError(t, err)
		return resp
	}

	require.Equal(t, "00", posclient.RC(send(kiosk, kioskTopUp(kiosk, cardOf(1), 2500, "134567890123456780"))), "top-up paid by WeChat")
	require.Equal(t, "00", posclient.RC(send(pos, cardReq(pos, 220, 0, cardOf(1), 1200))), "offline advice")
	require.Equal(t, "00", posclient.RC(send(pos, cardReq(pos, 220, 0, cardOf(2), 15000))), "an advice beyond the balance is still taken")

	require.Eventually(t, func() bool {
		n, err := g.d.Backlog()
		return err == nil && n == 0
	}, 20*time.Second, 20*time.Millisecond, "the outbox drains")
	require.Equal(t, int64(10000+2500-1200), centreBalance(t, c, 1), "the centre applied the top-up and the advice")
	require.Equal(t, int64(10000-15000), centreBalance(t, c, 2))

	resp := send(pos, pos.CardInquiry(cardOf(1)))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000+2500-1200), answeredBalance(t, resp), "the centre's inquiry shows the new balance")

	ledgercheck.RequireBalancesEqual(t, g.d.DB, c, 10*time.Second)
	ledgercheck.RequireReconciled(t, g.d.DB, "http://"+addr, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// TestConnectedReplicaFollowsAppliedRecords: an online purchase answered
// while an advice is still in the outbox sets the replica to the centre's
// balance without the advice; when the centre applies the advice the
// gateway reads the account again at once, not at the next 30 s snapshot.
func TestConnectedReplicaFollowsAppliedRecords(t *testing.T) {
	c, addr := startCentre(t, 1, 10000)
	g := connectedWithKiosk(t, addr, 1, 10000)
	ctx := context.Background()
	pos := g.signedIn(ctx, termOf(1), "M00000000000001")
	send := func(m *iso8583.Message) string {
		t.Helper()
		resp, _, err := pos.Send(ctx, m, true)
		require.NoError(t, err)
		return posclient.RC(resp)
	}
	c.SetFaults(refcentre.Faults{Down: true})
	require.Equal(t, "00", send(cardReq(pos, 220, 0, cardOf(1), 1200)), "offline advice")
	time.Sleep(3 * time.Second) // the forwarder backs off
	c.SetFaults(refcentre.Faults{})
	require.Equal(t, "00", send(pos.CardPurchase(cardOf(1), 500, nil)), "online purchase")
	require.Eventually(t, func() bool {
		n, err := g.d.Backlog()
		return err == nil && n == 0
	}, 20*time.Second, 20*time.Millisecond, "the outbox drains")
	require.Equal(t, int64(10000-1200-500), centreBalance(t, c, 1))
	require.Eventually(t, func() bool { return g.balance(1) == centreBalance(t, c, 1) },
		5*time.Second, 20*time.Millisecond, "the replica follows the centre within seconds")
}

// TestConnectedWalletLoadsAndWater: small-wallet loads are authorized
// online, and the water consumed, journaled with the next load under a
// key of its own, reaches the centre's wallet.
func TestConnectedWalletLoadsAndWater(t *testing.T) {
	c, addr := startCentre(t, 1, 10000)
	g := connectedWithKiosk(t, addr, 1, 10000)
	ctx := context.Background()
	s := g.signedIn(ctx, "S0000001", "M00000000000002")
	for _, l := range []struct {
		balance uint32
		counter uint16
		amount  int64
		water   string
	}{{0, 0, 1000, "WATER:0"}, {640, 1, 360, "WATER:360"}} {
		m := cardReq(s, 200, 190000, cardOf(1), l.amount)
		_ = m.SetBytes(55, walletInit(t, cardOf(1), l.balance, l.counter, uint32(l.amount), false))
		resp, _, err := s.Send(ctx, m, true)
		require.NoError(t, err)
		require.Equal(t, "00", posclient.RC(resp))
		require.Equal(t, l.water, string(resp.Bytes(63)))
	}
	ledgercheck.RequireBalancesEqual(t, g.d.DB, c, 10*time.Second)
	a, _, err := c.Account(1)
	require.NoError(t, err)
	require.Equal(t, int64(10000-1000-360), a.BalanceFen)
	require.Equal(t, int64(1000), a.WalletFen, "1000 + 360 loaded, 360 consumed")
	ledgercheck.RequireReconciled(t, g.d.DB, "http://"+addr, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// TestConnectedLostAnswersSettle: while the centre does the work but its
// answers are lost (a body that is not JSON), the gateway stands in: a
// purchase is approved, a fee declined 91. The centre had applied both;
// the records settle it on the gateway's word, and the ledgers agree.
func TestConnectedLostAnswersSettle(t *testing.T) {
	c, addr := startCentre(t, 1, 10000)
	g := connectedWithKiosk(t, addr, 1, 10000)
	ctx := context.Background()
	kiosk := g.signedIn(ctx, "K0000001", "M00000000000003")
	pos := g.signedIn(ctx, termOf(1), "M00000000000001")
	c.SetFaults(refcentre.Faults{Garbage: true})
	resp, _, err := pos.Send(ctx, pos.CardPurchase(cardOf(1), 800, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "stand-in purchase")
	m := cardReq(kiosk, 200, 170000, cardOf(1), 300)
	_ = m.SetString(63, "ELEC:B12-305")
	resp, _, err = kiosk.Send(ctx, m, true)
	require.NoError(t, err)
	require.Equal(t, "91", posclient.RC(resp), "no fee without the centre")
	require.Equal(t, int64(10000-800-300), centreBalance(t, c, 1), "the centre did both")
	c.SetFaults(refcentre.Faults{})
	ledgercheck.RequireBalancesEqual(t, g.d.DB, c, 20*time.Second)
	require.Equal(t, int64(10000-800), centreBalance(t, c, 1), "the fee the POS was refused is undone")
	ledgercheck.RequireReconciled(t, g.d.DB, "http://"+addr, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// TestConnectedMixedLedgersAgree: a seeded mix of purchases, reversals,
// advices, fees and WeChat top-ups from a POS and a kiosk at once, while
// the centre behaves, loses its answers, and is down; afterwards the
// outbox drains, every balance is the same at the gateway and the centre,
// and reconciliation finds nothing.
func TestConnectedMixedLedgersAgree(t *testing.T) {
	const accounts = 4
	c, addr := startCentre(t, accounts, 20000)
	g := connectedWithKiosk(t, addr, accounts, 20000)
	ctx := context.Background()
	kiosk := g.signedIn(ctx, "K0000001", "M00000000000003")
	pos := g.signedIn(ctx, termOf(1), "M00000000000001")
	rng, krng := rand.New(rand.NewPCG(seedMixed, 1)), rand.New(rand.NewPCG(seedMixed, 2))
	codes := 0
	phases := []refcentre.Faults{{}, {Garbage: true}, {Down: true}, {}}
	for _, fl := range phases {
		c.SetFaults(fl)
		done := make(chan struct{})
		go func() { // the kiosk at the same time as the POS
			defer close(done)
			for range 10 {
				card := cardOf(1 + krng.IntN(accounts))
				var m *iso8583.Message
				if krng.IntN(2) == 0 {
					codes++
					m = kioskTopUp(kiosk, card, int64(100+krng.IntN(900)), fmt.Sprintf("13%015d0", codes))
				} else {
					m = cardReq(kiosk, 200, 170000, card, int64(50+krng.IntN(300)))
					_ = m.SetString(63, "NET:1234")
				}
				_, _, err := kiosk.Send(ctx, m, true)
				assert.NoError(t, err)
			}
		}()
		for range 20 {
			card := cardOf(1 + rng.IntN(accounts))
			amt := int64(1 + rng.IntN(3000))
			switch rng.IntN(4) {
			case 0, 1:
				m := pos.CardPurchase(card, amt, nil)
				resp, _, err := pos.Send(ctx, m, true)
				require.NoError(t, err)
				if posclient.RC(resp) == "00" && rng.IntN(3) == 0 {
					_, _, err = pos.Send(ctx, pos.Reversal(m, "98"), true)
					require.NoError(t, err)
				}
			case 2:
				_, _, err := pos.Send(ctx, cardReq(pos, 220, 0, card, amt), true)
				require.NoError(t, err)
			case 3:
				_, _, err := pos.Send(ctx, pos.CardInquiry(card), true)
				require.NoError(t, err)
			}
		}
		<-done
	}
	c.SetFaults(refcentre.Faults{})
	ledgercheck.RequireBalancesEqual(t, g.d.DB, c, 30*time.Second)
	ledgercheck.RequireReconciled(t, g.d.DB, "http://"+addr, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// seedMixed makes TestConnectedMixedLedgersAgree reproducible.
const seedMixed = 16
