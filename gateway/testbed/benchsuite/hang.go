package benchsuite

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/testbed/posim"
	"ecardgw/gateway/testbed/refcentre"
)

// hangTitle is the figure's title before its size is known (a failed run).
const hangTitle = "Card purchase latency while code payments hang"

// hangPollLimit is payments.poll_limit's default: the figure runs the
// gateway's default configuration.
const hangPollLimit = 30 * time.Second

// hangFigure: issue 17's lunch. N terminals each send a WeChat payment code
// whose payer never finishes typing the password; meanwhile one card
// terminal sends card purchases back to back until every hung payment is
// answered. Before the payment state machine, the hung payments held the
// worker pool and the card terminal waited up to 28 s.
func (s *Suite) hangFigure(ctx context.Context) (Figure, error) {
	n := s.HangPayments
	f := Figure{
		Title: fmt.Sprintf("Card purchase latency while %s code payments hang", commas(int64(n))),
		Goal:  "card purchases p99 ≤ 100 ms and max ≤ 500 ms; every hung payment answered `98` within the poll limit + 5 s",
		What: fmt.Sprintf("The gateway's default configuration (256 workers, `payments.poll_limit` 30 s, polled every "+
			"second), standalone with `payments.url` at the reference centre's payment simulator in this process. "+
			"%s canteen POS each send one WeChat payment code ending in 6 (\"user paying\" until cancelled); once all "+
			"are pending at the channel, one more POS sends card purchases back to back, each waiting for its answer, "+
			"until every hung payment has been answered. The gateway is in this process with the terminals.", commas(int64(n))),
		Commands: []string{"go test -run TestHungPaymentsDoNotHoldCardTerminals -v ./gateway/daemon/ # the same at 400, as a test"},
	}
	centreURL, stopCentre, err := startCentre(s.tmpDir("hang-centre"))
	if err != nil {
		return f, err
	}
	defer stopCentre()
	g, err := startGW(posim.EnvSpec{Dir: s.tmpDir("hang"), POS: n + 1, Accounts: 8, PaymentsURL: centreURL})
	if err != nil {
		return f, err
	}
	defer g.stop()
	r, err := hungRun(ctx, g.fleet, n, g.d.Engine.PendingPayments)
	if err != nil {
		return f, err
	}
	f.Tables = []Table{{
		Header: []string{"hung payments", "card purchases", "p50 ms", "p99 ms", "max ms", "hung answered 98", "slowest hung answer s"},
		Right:  []bool{true, true, true, true, true, true, true},
		Rows: [][]string{{commas(int64(n)), commas(int64(len(r.card))), ms(quantileDur(r.card, 0.5)),
			ms(quantileDur(r.card, 0.99)), ms(slices.Max(r.card)), commas(int64(r.answered98)),
			fmt.Sprintf("%.1f", r.slowestHung.Seconds())}},
	}}
	p99, worst := quantileDur(r.card, 0.99), slices.Max(r.card)
	f.Result = fmt.Sprintf("card purchases p99 **%s ms** (max %s ms) while %s payments hung; %s of them answered `98`, the last after %.1f s",
		ms(p99), ms(worst), commas(int64(n)), commas(int64(r.answered98)), r.slowestHung.Seconds())
	switch {
	case r.answered98 != n:
		f.Status, f.Margin = Missed, fmt.Sprintf("missed: %d hung payments not answered 98", n-r.answered98)
	case r.slowestHung > hangPollLimit+5*time.Second:
		f.Status, f.Margin = Missed, "missed: a hung payment answered after the poll limit + 5 s"
	case worst > 500*time.Millisecond:
		f.Status, f.Margin = Missed, fmt.Sprintf("missed: the slowest card purchase took %s ms", ms(worst))
	default:
		f.Status, f.Margin = margin(float64(p99)/float64(time.Millisecond), 100, false)
	}
	return f, nil
}

// hungResult is what hungRun measured.
type hungResult struct {
	card        []time.Duration // card purchase round trips while the payments hung
	answered98  int
	slowestHung time.Duration
}

// hungRun sends n hung payment codes from the fleet's first n POS, waits
// until pending reports them all at the channel, and runs card purchases
// from POS n+1 until every hung payment is answered.
func hungRun(ctx context.Context, fleet *posim.Fleet, n int, pending func() int) (*hungResult, error) {
	if len(fleet.POS) < n+1 || len(fleet.Cards) == 0 {
		return nil, fmt.Errorf("benchsuite: hung payments: the fleet has %d POS and %d cards", len(fleet.POS), len(fleet.Cards))
	}
	type answer struct {
		rc   string
		took time.Duration
		err  error
	}
	answers := make(chan answer, n)
	var conns []*posclient.TCP
	var mu sync.Mutex
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	dial := func(i int) (*posclient.Terminal, error) {
		c, err := posclient.Dial(fleet.Addr, 5*time.Second)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		t := fleet.POS[i]
		t.T = c
		_, err = t.SignIn(ctx, 1)
		return &t, err
	}
	for i := range n {
		go func(i int) {
			t, err := dial(i)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			code := fmt.Sprintf("13%015d%d", i, refcentre.DigitPaying)
			cctx, cancel := context.WithTimeout(ctx, 2*hangPollLimit)
			defer cancel()
			t0 := time.Now()
			resp, _, err := t.Send(cctx, t.CodePurchase(code, 100), true)
			a := answer{took: time.Since(t0), err: err}
			if err == nil {
				a.rc = posclient.RC(resp)
			}
			answers <- a
		}(i)
	}
	card, err := dial(n)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(hangPollLimit)
	for pending() < n {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("benchsuite: only %d of %d payments pending", pending(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := &hungResult{}
	got := 0
	for k := 0; got < n; k++ {
		select {
		case a := <-answers:
			got++
			if a.err != nil {
				return nil, fmt.Errorf("benchsuite: a hung payment: %w", a.err)
			}
			if a.rc == "98" {
				r.answered98++
			}
			r.slowestHung = max(r.slowestHung, a.took)
			continue
		default:
		}
		c := fleet.Cards[k%len(fleet.Cards)]
		t0 := time.Now()
		resp, _, err := card.Send(ctx, card.CardPurchase(c.Number, 1, nil), true)
		if err != nil {
			return nil, fmt.Errorf("benchsuite: card purchase: %w", err)
		}
		if rc := posclient.RC(resp); rc != "00" {
			return nil, fmt.Errorf("benchsuite: card purchase answered %s", rc)
		}
		r.card = append(r.card, time.Since(t0))
	}
	if len(r.card) == 0 {
		return nil, fmt.Errorf("benchsuite: no card purchase while the payments hung")
	}
	return r, nil
}

func quantileDur(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
