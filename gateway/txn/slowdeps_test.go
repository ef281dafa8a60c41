package txn_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
)

// An online authorization waiting for a slow centre holds no caller: the
// engine defers it, answers the others at once, and answers it when the
// centre does.
func TestCentreAuthorizationIsDeferred(t *testing.T) {
	ce := newCentre()
	release := make(chan struct{})
	gate := &gatedCentre{next: ce, gate: release}
	f := newFixture(t, func(cfg *txn.Config) {
		cfg.Centre = gate
		cfg.CentreTimeout = time.Minute
	})
	p := f.signedIn("T0000001", 1)
	q := f.signedIn("T0000002", 1)
	slow, deferred := async(t, f, p, p.CardPurchase(cardOK, 100, nil))
	require.True(t, deferred, "a request for the centre never holds the caller")
	echo, deferred := async(t, f, q, q.New(820, -1, 301))
	require.False(t, deferred, "an echo is answered at once")
	require.Equal(t, "00", recv(t, echo))
	settle, _ := async(t, f, q, q.Settle(0, 0, 0, 0))
	require.Equal(t, "00", recv(t, settle))
	select {
	case <-slow:
		t.Fatal("answered before the centre")
	default:
	}
	close(release)
	require.Equal(t, "00", recv(t, slow))
}

type gatedCentre struct {
	next txn.Centre
	gate chan struct{}
}

func (g *gatedCentre) Authorize(ctx context.Context, r txn.AuthRequest) (txn.AuthResult, error) {
	<-g.gate
	return g.next.Authorize(ctx, r)
}

// A campus code waiting for the shared replay record holds no caller.
func TestSharedReplayClaimIsDeferred(t *testing.T) {
	kit := newCampusKit(t)
	release := make(chan struct{})
	shared := sharedFunc(func(context.Context, uint64, uint32, uint16) (bool, error) {
		<-release
		return true, nil
	})
	f := newFixture(t, kit.cfg, func(c *txn.Config) { c.SharedReplay = shared })
	p := f.signedIn("T0000001", 1)
	q := f.signedIn("T0000002", 1)
	resp, _ := send(t, p, cardSync(p, cardOK, "00000000"+cardOK))
	require.Equal(t, "00", posclient.RC(resp))
	dev := kit.device(t, kit.ed, 1001, f.clock())
	code, err := dev.Code(f.clock())
	require.NoError(t, err)
	slow, deferred := async(t, f, p, p.CodePurchase(code, 100))
	require.True(t, deferred)
	card, _ := async(t, f, q, q.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", recv(t, card))
	close(release)
	require.Equal(t, "00", recv(t, slow))
}

type sharedFunc func(ctx context.Context, account uint64, genAt uint32, counter uint16) (bool, error)

func (f sharedFunc) Claim(ctx context.Context, a uint64, g uint32, c uint16) (bool, error) {
	return f(ctx, a, g, c)
}

// A card purchase waiting for its group commit holds no caller:
// HandleAsync returns at once, and the answer comes only once the commit
// has returned.
func TestCardPurchaseHoldsNoCallerDuringItsCommit(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	frame, err := iso8583.AppendFrame(nil, p.CardPurchase(cardOK, 100, nil), p.MAK)
	require.NoError(t, err)
	gate := make(chan struct{})
	f.commitGate.Store(&gate)
	answers := make(chan []byte, 1)
	returned := make(chan bool, 1)
	go func() {
		ans, deferred := f.eng.HandleAsync(context.Background(), nil, frame, func(a []byte) { answers <- a })
		if !deferred {
			answers <- ans
		}
		returned <- deferred
	}()
	select {
	case deferred := <-returned:
		require.True(t, deferred)
	case <-time.After(5 * time.Second):
		close(gate)
		t.Fatal("the caller was held until the group commit returned")
	}
	select {
	case <-answers:
		t.Fatal("answered before its commit returned")
	case <-time.After(50 * time.Millisecond):
	}
	f.commitGate.Store(nil)
	close(gate)
	select {
	case a := <-answers:
		require.Equal(t, "00", rcOfAnswer(t, a))
	case <-time.After(10 * time.Second):
		t.Fatal("no answer after the commit")
	}
}

func rcOfAnswer(t *testing.T, a []byte) string {
	t.Helper()
	var r iso8583.Message
	require.NoError(t, iso8583.DecodeFrame(&r, a))
	return string(r.Bytes(39))
}
