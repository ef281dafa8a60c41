package ledger_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/ledger"
	"ecardgw/store"
)

var now = time.Date(2026, 12, 6, 4, 30, 0, 0, time.UTC)

func acct(bal int64, st store.Status) store.Account {
	return store.Account{No: 1001, BalanceFen: bal, Status: st}
}

func TestSpend(t *testing.T) {
	for _, tc := range []struct {
		name   string
		a      store.Account
		amount int64
		daily  int64
		want   error
	}{
		{"covered", acct(100, store.StatusActive), 100, 0, nil},
		{"not covered", acct(99, store.StatusActive), 100, 0, ledger.ErrInsufficient},
		{"lost", acct(100, store.StatusLost), 1, 0, ledger.ErrLost},
		{"frozen", acct(100, store.StatusFrozen), 1, 0, ledger.ErrFrozen},
		{"cancelled", acct(100, store.StatusCancelled), 1, 0, ledger.ErrFrozen},
		{"zero", acct(100, store.StatusActive), 0, 0, ledger.ErrBadAmount},
		{"negative", acct(100, store.StatusActive), -5, 0, ledger.ErrBadAmount},
		{"daily", acct(100, store.StatusActive), 60, 50, ledger.ErrOverLimit},
		{"daily, huge amount", acct(math.MaxInt64, store.StatusActive), math.MaxInt64, 50, ledger.ErrOverLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.a
			err := ledger.Spend(&a, tc.amount, tc.daily, now)
			require.ErrorIs(t, err, tc.want)
			if tc.want != nil {
				require.Equal(t, tc.a, a, "a refusal leaves the account as it was")
				return
			}
			require.Equal(t, tc.a.BalanceFen-tc.amount, a.BalanceFen)
			require.Equal(t, tc.amount, a.DayFen)
			require.Equal(t, "20261206", a.Day)
		})
	}
}

func TestSpendDailyLimitRollsOverAtUTCMidnight(t *testing.T) {
	a := acct(10000, store.StatusActive)
	require.NoError(t, ledger.Spend(&a, 400, 500, now))
	require.ErrorIs(t, ledger.Spend(&a, 101, 500, now), ledger.ErrOverLimit)
	require.NoError(t, ledger.Spend(&a, 100, 500, now))
	require.NoError(t, ledger.Spend(&a, 500, 500, now.Add(20*time.Hour)))
	require.Equal(t, int64(500), a.DayFen)
}

// No credit wraps around: near the limit a top-up, refund or reversal is
// refused, and the account keeps its balance.
func TestCreditsNeverWrap(t *testing.T) {
	top := acct(store.MaxBalanceFen, store.StatusActive)
	for name, credit := range map[string]func(*store.Account) error{
		"receive":   func(a *store.Account) error { return ledger.Receive(a, 1, now) },
		"give back": func(a *store.Account) error { return ledger.GiveBack(a, 1, now) },
	} {
		a := top
		require.ErrorIs(t, credit(&a), ledger.ErrOverflow, name)
		require.Equal(t, top, a, name)
	}
	a := acct(math.MaxInt64-10, store.StatusActive)
	require.ErrorIs(t, ledger.GiveBack(&a, 100, now), ledger.ErrOverflow, "a balance beyond the limit gets nothing more")
	require.Equal(t, int64(math.MaxInt64-10), a.BalanceFen)
	a = acct(5, store.StatusActive)
	require.ErrorIs(t, ledger.GiveBack(&a, math.MaxInt64, now), ledger.ErrOverflow)
	require.Equal(t, int64(5), a.BalanceFen)
}

func TestDebitsNeverPassTheFloor(t *testing.T) {
	a := acct(-store.MaxBalanceFen+10, store.StatusActive)
	_, err := ledger.TakeBack(&a, 11, now)
	require.ErrorIs(t, err, ledger.ErrOverflow)
	_, err = ledger.SpendOffline(&a, 11, now)
	require.ErrorIs(t, err, ledger.ErrOverflow)
	a = acct(0, store.StatusActive)
	_, err = ledger.TakeBack(&a, math.MaxInt64, now)
	require.ErrorIs(t, err, ledger.ErrOverflow)
	require.Zero(t, a.BalanceFen)

	neg, err := ledger.TakeBack(&a, 5, now)
	require.NoError(t, err)
	require.True(t, neg)
	require.Equal(t, int64(-5), a.BalanceFen)
}

func TestReceiveStatus(t *testing.T) {
	for st, want := range map[store.Status]error{
		store.StatusActive: nil, store.StatusLost: nil,
		store.StatusFrozen: ledger.ErrFrozen, store.StatusCancelled: ledger.ErrFrozen,
	} {
		a := acct(0, st)
		require.ErrorIs(t, ledger.Receive(&a, 100, now), want, st.String())
	}
}

func TestSpendOfflineReportsUncoveredSales(t *testing.T) {
	a := acct(100, store.StatusFrozen)
	exc, err := ledger.SpendOffline(&a, 50, now)
	require.NoError(t, err)
	require.False(t, exc)
	exc, err = ledger.SpendOffline(&a, 60, now)
	require.NoError(t, err)
	require.True(t, exc)
	require.Equal(t, int64(-10), a.BalanceFen)
}

func TestCode(t *testing.T) {
	for err, rc := range map[error]string{
		nil: "", ledger.ErrBadAmount: "13", ledger.ErrLost: "41", ledger.ErrFrozen: "62",
		ledger.ErrInsufficient: "51", ledger.ErrOverLimit: "61", ledger.ErrOverflow: "61",
		store.ErrBadValue: "96",
	} {
		require.Equal(t, rc, ledger.Code(err), "%v", err)
	}
}
