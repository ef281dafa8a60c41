package daemon_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/admin"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// TestKill9DuringCodePayments kills a gateway with SIGKILL while code
// payments and top-ups are pending at the (reference) channel, being paid
// and paid but not yet answered, and restarts it. After recovery every
// trade at the channel is cancelled or refunded, or matched by an approved
// journal record; no account is credited for a top-up that was not paid.
func TestKill9DuringCodePayments(t *testing.T) {
	skipKill9InShort(t)
	const (
		terms   = 8
		kiosks  = 4
		balance = int64(100000)
	)
	c, centreAddr := startCentre(t, terms, balance)
	bin := buildGateway(t)
	dir := t.TempDir()
	cfg := writeGatewayFiles(t, dir, gwOptions{terminals: terms, kiosks: kiosks,
		extra: "payments: {url: http://" + centreAddr + ", poll_limit: 20s}\n"})
	importAccounts(t, filepath.Join(dir, "gw.db"), terms, balance)

	p := startProc(t, bin, cfg)
	pinListeners(t, cfg, p)
	// The outcome digits in turn: paid at once, paid at the second poll,
	// paid after a 2 s pay call, paying until cancelled; each terminal
	// starts at another, so the kill finds every state.
	digits := []int{refcentre.DigitPaid, refcentre.DigitPollPaid, refcentre.DigitSlowPaid, refcentre.DigitPaying}
	var mu sync.Mutex
	var trades []store.IdemKey // every code request sent
	var held conns
	defer held.closeAll()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 1; i <= terms+kiosks; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := termOf(i)
			if i > terms {
				id = kioskOf(i - terms)
			}
			cl, err := posclient.Dial(p.addr, 2*time.Second)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			held.add(cl)
			term := &posclient.Terminal{ID: id, Merchant: "M00000000000001", TMK: tmk, T: cl}
			if i > terms {
				term.Merchant = "M00000000000003"
			}
			ctx := context.Background()
			if _, err := term.SignIn(ctx, 1); err != nil {
				t.Errorf("sign-in %s: %v", id, err)
				return
			}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				code := fmt.Sprintf("13%015d%d", i*1000+n, digits[(i+n)%len(digits)])
				var m *iso8583.Message
				if i > terms {
					m = kioskTopUp(term, cardOf(1+i%terms), 300, code)
				} else {
					m = term.CodePurchase(code, 200)
				}
				stan, _ := m.STAN()
				mu.Lock()
				trades = append(trades, store.IdemKey{Terminal: id, Batch: 1, STAN: stan, MTI: 200})
				mu.Unlock()
				if _, _, err := term.Send(ctx, m, true); err != nil {
					return // the kill
				}
			}
		}(i)
	}
	time.Sleep(3500 * time.Millisecond)
	p.kill9()
	close(stop)
	held.closeAll()
	wg.Wait()
	t.Logf("%d code requests sent before the kill", len(trades))
	// The slow pays the kill interrupted complete at the channel while
	// the gateway is down: paid, never answered.
	time.Sleep(2500 * time.Millisecond)

	p = startProc(t, bin, cfg)
	// Recovery runs before terminals are served; the retry queue then
	// works off what it owes.
	require.Eventually(t, func() bool {
		st, err := admin.FetchStatus(context.Background(), nil, p.admin)
		return err == nil && st.Payments.RetryQueue == 0
	}, 60*time.Second, 100*time.Millisecond, "the retry queue drains")
	p.term(t)

	db, err := store.Open(filepath.Join(dir, "gw.db"), store.Options{})
	require.NoError(t, err)
	defer db.Close()
	approved := map[store.IdemKey]store.Record{}
	require.NoError(t, db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			if r.Resp == "00" && (r.Kind == store.KindPurchase || r.Kind == store.KindTopUp) {
				approved[r.Key] = *r
			}
			return nil
		})
	}))
	credited := map[uint64]int64{}
	kinds := map[string]int{}
	for _, k := range trades {
		trade := fmt.Sprintf("%s%06d%06d%04d", k.Terminal, k.Batch, k.STAN, k.MTI)
		res, err := c.Query(trade)
		status := res.Status
		if err != nil {
			status = "never reached the channel"
		}
		kinds[status]++
		if r, ok := approved[k]; ok {
			require.Equal(t, "paid", status, "%s approved in the journal, so paid at the channel", trade)
			if r.Kind == store.KindTopUp {
				credited[r.Account] += r.Amount
			}
			continue
		}
		switch status {
		case "cancelled", "refunded", "declined", "never reached the channel":
		default:
			t.Errorf("%s: %s at the channel with no approved journal record", trade, status)
		}
	}
	t.Logf("channel trades after recovery: %v; approved in the journal: %d", kinds, len(approved))
	require.NotZero(t, kinds["cancelled"], "payments pending at the kill are cancelled")
	require.NotZero(t, kinds["refunded"], "payments paid but not answered at the kill are refunded")
	require.NoError(t, db.View(func(tx *store.Tx) error {
		for no := uint64(1); no <= terms; no++ {
			a, ok, err := tx.Account(no)
			require.True(t, ok)
			require.Equal(t, balance+credited[no], a.BalanceFen, "account %d: credited only for paid top-ups", no)
			if err != nil {
				return err
			}
		}
		n := 0
		err := tx.PayIntents(func(p store.PayIntent) error {
			if !p.Closed {
				n++
			}
			return nil
		})
		require.Zero(t, n, "no intent left open")
		return err
	}))
}
