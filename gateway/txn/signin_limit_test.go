package txn_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

// TestSignInStormIsRateLimited: the same terminal signing in hundreds of
// times at one instant gets the burst (5) approved and the rest 96; the
// keys of its last approved sign-in keep working; another terminal is not
// affected; one interval later one more sign-in is allowed.
func TestSignInStormIsRateLimited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	storm := f.signedIn("T0000001", 1) // 1 of the burst

	var approved, refused atomic.Int32
	var wg sync.WaitGroup
	for g := range 4 {
		// Each goroutine is a copy of the terminal (same ID and TMK): what
		// a storm looks like on the wire. Made here: f.pos fails the test
		// with t.Fatalf, which must run on the test's goroutine.
		p := f.pos("T0000001")
		p.STAN = uint32(1000 * (g + 1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 75 {
				resp, err := p.SignIn(ctx, 1)
				switch rc := posclient.RC(resp); {
				case err == nil:
					approved.Add(1)
				case rc == "96":
					refused.Add(1)
				default:
					t.Errorf("storm sign-in answered %q: %v", rc, err)
				}
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 4, approved.Load(), "the burst is 5 sign-ins, one was used before the storm")
	require.EqualValues(t, 300-4, refused.Load())

	// Another terminal signs in and pays while T0000001 is limited.
	other := f.signedIn("T0000002", 1)
	resp, _ := send(t, other, other.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp))

	// Refused sign-ins did not replace the session: the limited terminal
	// signs in once more only after an interval, and the keys it then
	// holds work.
	_, err := storm.SignIn(ctx, 1)
	require.Error(t, err)
	f.advance(200 * time.Millisecond)
	_, err = storm.SignIn(ctx, 1)
	require.NoError(t, err)
	resp, _ = send(t, storm, storm.CardPurchase(cardOK, 100, nil))
	require.Equal(t, "00", posclient.RC(resp))
	_, err = storm.SignIn(ctx, 1)
	require.Error(t, err, "the bucket refills one sign-in per interval")
}

// TestRefusedSignInKeepsCurrentKeys: a sign-in refused by the limit leaves
// the keys the terminal already holds in force.
func TestRefusedSignInKeepsCurrentKeys(t *testing.T) {
	f := newFixture(t)
	p := f.signedIn("T0000001", 1)
	for range 4 {
		_, err := p.SignIn(context.Background(), 1)
		require.NoError(t, err)
	}
	held := p.MAK
	resp, err := p.SignIn(context.Background(), 1)
	require.Error(t, err)
	require.Equal(t, "96", posclient.RC(resp))
	require.Equal(t, held, p.MAK)
	resp, _ = send(t, p, p.CardPurchase(cardOK, 250, nil))
	require.Equal(t, "00", posclient.RC(resp))
	require.Equal(t, int64(10000-250), f.balance(1001))
}

// TestSignInLimitSurvivesClockStepBack: a wall clock set back (an NTP
// step) does not lock terminals out of signing in until it catches up.
func TestSignInLimitSurvivesClockStepBack(t *testing.T) {
	f := newFixture(t)
	p := f.pos("T0000001")
	for range 5 {
		_, err := p.SignIn(context.Background(), 1)
		require.NoError(t, err)
	}
	_, err := p.SignIn(context.Background(), 1)
	require.Error(t, err, "the burst is used up")
	f.advance(-time.Hour)
	_, err = p.SignIn(context.Background(), 1)
	require.NoError(t, err, "refused for an hour after the clock stepped back")
	_, err = p.SignIn(context.Background(), 1)
	require.NoError(t, err, "a fresh burst")
}
