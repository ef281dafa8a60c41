package daemon_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/admin"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/refcentre"
	"ecardgw/store"
)

// hungCode is a WeChat payment code whose payer never finishes typing the
// password (the reference channel's outcome digit 6).
func hungCode(i int) string { return fmt.Sprintf("13%015d%d", i, refcentre.DigitPaying) }

// cardLoad sends card inquiries and purchases from one terminal until stop
// closes and returns each round trip's latency.
func cardLoad(t *testing.T, p *posclient.Terminal, stop <-chan struct{}) ([]time.Duration, error) {
	var lat []time.Duration
	ctx := context.Background()
	for n := 0; ; n++ {
		select {
		case <-stop:
			return lat, nil
		default:
		}
		m := p.CardInquiry(cardOf(1 + n%8))
		if n%2 == 1 {
			m = p.CardPurchase(cardOf(1+n%8), 1, nil)
		}
		t0 := time.Now()
		resp, _, err := p.Send(ctx, m, true)
		if err != nil {
			return lat, err
		}
		lat = append(lat, time.Since(t0))
		if rc := posclient.RC(resp); rc != "00" {
			return lat, fmt.Errorf("card request answered %s", rc)
		}
	}
}

func quantile(lat []time.Duration, q float64) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// TestHungPaymentsDoNotHoldCardTerminals is issue 17's lunch: with the
// gateway's default configuration (256 workers, 30 s poll limit), 400
// terminals send payment codes whose payer never finishes, and another
// terminal's card inquiries and purchases keep their latency; every hung
// payment is answered, not approved, within the poll limit + 5 s, and its
// trade is cancelled at the channel.
func TestHungPaymentsDoNotHoldCardTerminals(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs for the 30 s poll limit")
	}
	const hung = 400
	const pollLimit = 30 * time.Second
	c, addr := startCentre(t, 8, 100000)
	g := startGateway(t, gwOptions{terminals: hung + 1, defaultServer: true,
		extra: "payments: {url: http://" + addr + "}\n"})
	ctx := context.Background()
	card, _ := g.dial(hung + 1)
	_, err := card.SignIn(ctx, 1)
	require.NoError(t, err)

	type result struct {
		rc    string
		took  time.Duration
		err   error
		trade string
	}
	results := make(chan result, hung)
	var sent atomic.Int32
	for i := 1; i <= hung; i++ {
		go func(i int) {
			p, _ := g.dial(i)
			if _, err := p.SignIn(ctx, 1); err != nil {
				results <- result{err: err}
				return
			}
			m := p.CodePurchase(hungCode(i), 100)
			stan, _ := m.STAN()
			trade := fmt.Sprintf("%s%06d%06d%04d", p.ID, 1, stan, 200)
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			sent.Add(1)
			t0 := time.Now()
			resp, _, err := p.Send(cctx, m, true)
			r := result{took: time.Since(t0), err: err, trade: trade}
			if err == nil {
				r.rc = posclient.RC(resp)
			}
			results <- r
		}(i)
	}
	require.Eventually(t, func() bool { return g.d.Engine.PendingPayments() == hung }, 30*time.Second, 10*time.Millisecond,
		"all %d payments pending at once", hung)

	stop := make(chan struct{})
	type loadOut struct {
		lat []time.Duration
		err error
	}
	loadDone := make(chan loadOut, 1)
	go func() {
		lat, err := cardLoad(t, card, stop)
		loadDone <- loadOut{lat, err}
	}()
	var trades []string
	for range hung {
		r := <-results
		require.NoError(t, r.err)
		require.NotEqual(t, "00", r.rc, "a payment whose payer never finished is not approved")
		require.Equal(t, "98", r.rc)
		require.LessOrEqual(t, r.took, pollLimit+5*time.Second, "answered within the poll limit + 5 s")
		trades = append(trades, r.trade)
	}
	close(stop)
	out := <-loadDone
	require.NoError(t, out.err)
	require.Greater(t, len(out.lat), 100, "the card terminal kept working")
	p99, worst := quantile(out.lat, 0.99), slices.Max(out.lat)
	t.Logf("card terminal while %d payments hung: %d requests, p50 %v, p99 %v, max %v",
		hung, len(out.lat), quantile(out.lat, 0.5), p99, worst)
	require.Less(t, p99, 100*time.Millisecond)
	require.Less(t, worst, 500*time.Millisecond)

	require.Eventually(t, func() bool {
		for _, tr := range trades {
			res, err := c.Query(tr)
			if err != nil || res.Status != "cancelled" {
				return false
			}
		}
		return true
	}, 20*time.Second, 100*time.Millisecond, "every hung trade is cancelled at the channel")
	require.Zero(t, g.d.Engine.PendingPayments())
}

// hungCentre accepts connections and never answers.
func hungCentre(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// TestHungCentreStandsInAtOnce: connected mode with the default centre
// timeout (1.5 s) and a centre that accepts connections and never answers.
// The first purchases wait out the timeout and stand in; then the breaker
// opens and every purchase stands in within 100 ms, while another
// terminal's echo is never held up.
func TestHungCentreStandsInAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out the centre timeout several times")
	}
	addr := hungCentre(t)
	g, logs := startLogged(t, gwOptions{terminals: 2, defaultServer: true, mode: "connected",
		extra: "centre: {url: http://" + addr + "}\n"}, nil)
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	q, _ := g.dial(2)
	_, err = q.SignIn(ctx, 1)
	require.NoError(t, err)

	// While purchases wait for the hung centre, another terminal's echo
	// is answered at once: the waiting holds no worker.
	slowDone := make(chan time.Duration, 1)
	go func() {
		t0 := time.Now()
		_, _, _ = p.Send(ctx, p.CardPurchase(cardOf(1), 100, nil), true)
		slowDone <- time.Since(t0)
	}()
	time.Sleep(200 * time.Millisecond)
	t0 := time.Now()
	_, err = q.Echo(ctx)
	require.NoError(t, err)
	require.Less(t, time.Since(t0), 100*time.Millisecond, "an echo does not wait behind the centre")
	require.Greater(t, <-slowDone, time.Second, "the first purchase waited for the centre")

	// Purchases until the breaker opens (3 failures by default).
	opened := false
	for range 5 {
		t0 := time.Now()
		resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(2), 100, nil), true)
		require.NoError(t, err)
		require.Equal(t, "00", posclient.RC(resp), "stand-in")
		if time.Since(t0) < 100*time.Millisecond {
			opened = true
			break
		}
	}
	require.True(t, opened, "the breaker opened after the centre failed")
	require.Contains(t, logs.String(), "circuit breaker open")
	var lat []time.Duration
	for n := range 60 {
		t0 := time.Now()
		resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(3+n%6), 100, nil), true)
		require.NoError(t, err)
		lat = append(lat, time.Since(t0))
		require.Equal(t, "00", posclient.RC(resp), "stand-in at once")
		time.Sleep(100 * time.Millisecond) // across the breaker's probes (every 5 s)
	}
	t.Logf("stand-in purchases with the breaker open: p50 %v, max %v", quantile(lat, 0.5), slices.Max(lat))
	require.Less(t, slices.Max(lat), 100*time.Millisecond, "every purchase stands in within 100 ms")
	require.Equal(t, 1, strings.Count(logs.String(), "circuit breaker open"), "one line per state change, not per request")
}

// TestPaymentStatusAndMetrics: the pending payments and the retry queue
// show in ecardgw status and the metrics.
func TestPaymentStatusAndMetrics(t *testing.T) {
	c, addr := startCentre(t, 2, 1000)
	g := startGateway(t, gwOptions{terminals: 1,
		extra: "payments: {url: http://" + addr + ", poll_limit: 2s, poll_interval: 100ms}\n"})
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	done := make(chan string, 1)
	go func() {
		resp, _, err := p.Send(ctx, p.CodePurchase(hungCode(1), 100), true)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- posclient.RC(resp)
	}()
	require.Eventually(t, func() bool { return metric(g.scrape(), "ecardgw_payment_pending") == 1 }, 5*time.Second, 20*time.Millisecond)
	st := fetchStatus(t, g)
	require.Equal(t, 1, st.Payments.Pending)
	// The channel has the trade (the pay call was made): only the polls
	// and the cancel meet it down.
	require.Eventually(t, func() bool {
		for stan := 1; stan <= 10; stan++ {
			if _, err := c.Query(fmt.Sprintf("%s%06d%06d%04d", p.ID, 1, stan, 200)); err == nil {
				return true
			}
		}
		return false
	}, 5*time.Second, 20*time.Millisecond)

	// The channel goes down: the cancel at the poll limit is queued.
	c.SetFaults(refcentre.Faults{Down: true})
	select {
	case rc := <-done:
		require.Equal(t, "98", rc)
	case <-time.After(20 * time.Second):
		t.Fatal("the hung payment was not answered")
	}
	require.Eventually(t, func() bool {
		st := fetchStatus(t, g)
		return st.Payments.RetryQueue == 1 && len(st.Payments.RetryJobs) == 1 && st.Payments.RetryJobs[0].Attempts > 0
	}, 10*time.Second, 50*time.Millisecond, "the failed cancel is in the retry queue")
	// The attempt is committed before it is counted (payjobs.go): the
	// status can show it a moment before the metric does.
	require.Eventually(t, func() bool {
		return metric(g.scrape(), "ecardgw_payment_retries_total", `op="cancel"`, `result="retry"`) > 0
	}, 5*time.Second, 20*time.Millisecond, "the failed cancel is counted as a retry")
	c.SetFaults(refcentre.Faults{})
	require.Eventually(t, func() bool { return fetchStatus(t, g).Payments.RetryQueue == 0 }, 20*time.Second, 100*time.Millisecond,
		"retried until the channel confirms")
	require.Equal(t, 1.0, metric(g.scrape(), "ecardgw_payment_retries_total", `op="cancel"`, `result="done"`))
	require.Equal(t, 0.0, metric(g.scrape(), "ecardgw_payment_retry_queue"))
}

func fetchStatus(t *testing.T, g *gateway) admin.Status {
	t.Helper()
	st, err := admin.FetchStatus(context.Background(), nil, g.d.Admin.Addr())
	require.NoError(t, err)
	return st
}

// TestStopAnswersPendingPayments: a stop does not wait for the poll limit:
// pending code payments are answered 98 at once and their trades are
// cancelled (or owed, in the store, for the next start).
func TestStopAnswersPendingPayments(t *testing.T) {
	c, addr := startCentre(t, 2, 1000)
	g := startGateway(t, gwOptions{terminals: 1,
		extra: "payments: {url: http://" + addr + ", poll_limit: 30s, poll_interval: 100ms}\n"})
	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	m := p.CodePurchase(hungCode(1), 100)
	stan, _ := m.STAN()
	done := make(chan string, 1)
	go func() {
		resp, _, err := p.Send(ctx, m, true)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- posclient.RC(resp)
	}()
	require.Eventually(t, func() bool { return g.d.Engine.PendingPayments() == 1 }, 5*time.Second, 10*time.Millisecond)
	t0 := time.Now()
	require.NoError(t, g.d.Stop())
	require.Less(t, time.Since(t0), 5*time.Second, "the stop does not wait for the poll limit")
	require.Equal(t, "98", <-done)
	trade := fmt.Sprintf("%s%06d%06d%04d", p.ID, 1, stan, 200)
	res, err := c.Query(trade)
	if err == nil && res.Status == "cancelled" {
		return
	}
	db, err := store.Open(filepath.Join(g.dir, "gw.db"), store.Options{})
	require.NoError(t, err)
	defer db.Close()
	owed := false
	require.NoError(t, db.View(func(tx *store.Tx) error {
		return tx.PayJobs(func(j store.PayJob) error {
			owed = owed || (j.Trade == trade && j.Op == store.PayJobCancel)
			return nil
		})
	}))
	require.True(t, owed, "the cancel is owed in the store for the next start")
}
