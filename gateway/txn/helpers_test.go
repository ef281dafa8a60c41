package txn_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

var (
	tmkPOS   = []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01}
	tmkKiosk = []byte{0x21, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x02}
	walletMK = []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
	storeKey = make([]byte, 32)
)

// Demo accounts: card numbers are the last 12 digits of the serials.
const (
	cardOK     = "123456789012"
	cardLost   = "223456789012"
	cardFrozen = "323456789012"
	cardPoor   = "423456789012"
	cardNone   = "999999999999"
)

type fixture struct {
	t    *testing.T
	db   *store.DB
	eng  *txn.Engine
	path string
	mu   sync.Mutex
	now  time.Time
	// commits counts the store's commits (each an fsync), across restarts.
	commits atomic.Int64
	// commitGate, when set, holds every commit after it is written until
	// the channel is closed (a slow fsync).
	commitGate atomic.Pointer[chan struct{}]
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func terminals() []txn.Terminal {
	return []txn.Terminal{
		{ID: "T0000001", Merchant: "M00000000000001", Type: txn.TypePOS, TMK: tmkPOS, Location: "canteen 1"},
		{ID: "T0000002", Merchant: "M00000000000001", Type: txn.TypePOS, TMK: tmkPOS, Location: "canteen 1"},
		{ID: "S0000001", Merchant: "M00000000000002", Type: txn.TypeSettlement, TMK: tmkPOS, Location: "Xiaoying bath house"},
		{ID: "K0000001", Merchant: "M00000000000003", Type: txn.TypeKiosk, TMK: tmkKiosk, Location: "library"},
	}
}

func newFixture(t *testing.T, mod ...func(*txn.Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "gw.db"),
		now: time.Date(2026, 11, 26, 4, 30, 0, 0, time.UTC)}
	f.open(mod...)
	_, _, err := f.db.ImportAccounts(context.Background(), []store.Account{
		{No: 1001, Name: "Zhang San", CardNumber: cardOK, CardSerial: "00000000" + cardOK, BalanceFen: 10000, Status: store.StatusActive, StaffNo: "2026001"},
		{No: 1002, Name: "Li Si", CardNumber: cardLost, CardSerial: "00000000" + cardLost, BalanceFen: 5000, Status: store.StatusLost, StaffNo: "2026002"},
		{No: 1003, Name: "Wang Wu", CardNumber: cardFrozen, CardSerial: "00000000" + cardFrozen, BalanceFen: 5000, Status: store.StatusFrozen, StaffNo: "2026003"},
		{No: 1004, Name: "Zhao Liu", CardNumber: cardPoor, CardSerial: "00000000" + cardPoor, BalanceFen: 100, Status: store.StatusActive, StaffNo: "2026004"},
	})
	require.NoError(t, err)
	return f
}

func (f *fixture) open(mod ...func(*txn.Config)) {
	db, err := store.Open(f.path, store.Options{StorageKey: storeKey,
		OnCommit: func(int, time.Duration, error) { f.commits.Add(1) },
		FailAfterCommit: func() error {
			if g := f.commitGate.Load(); g != nil {
				<-*g
			}
			return nil
		}})
	require.NoError(f.t, err)
	cfg := txn.Config{DB: db, Terminals: terminals(), Now: f.clock, WalletMasterKey: walletMK}
	for _, m := range mod {
		m(&cfg)
	}
	eng, err := txn.New(cfg)
	require.NoError(f.t, err)
	f.db, f.eng = db, eng
	f.t.Cleanup(func() { _ = f.db.Close() })
}

// restart closes the store and opens a new engine on the same file.
func (f *fixture) restart(mod ...func(*txn.Config)) {
	require.NoError(f.t, f.db.Close())
	f.open(mod...)
}

func (f *fixture) transport() posclient.Transport {
	return posclient.TransportFunc(func(ctx context.Context, req []byte) ([]byte, error) {
		return f.eng.Handle(ctx, req), nil
	})
}

func (f *fixture) pos(id string) *posclient.Terminal {
	for _, t := range terminals() {
		if t.ID == id {
			return &posclient.Terminal{ID: t.ID, Merchant: t.Merchant, TMK: t.TMK, T: f.transport(), Now: f.clock}
		}
	}
	f.t.Fatalf("no terminal %s", id)
	return nil
}

func (f *fixture) signedIn(id string, batch uint32) *posclient.Terminal {
	p := f.pos(id)
	_, err := p.SignIn(context.Background(), batch)
	require.NoError(f.t, err)
	return p
}

func (f *fixture) balance(no uint64) int64 {
	var bal int64
	require.NoError(f.t, f.db.View(func(tx *store.Tx) error {
		a, ok, err := tx.Account(no)
		require.True(f.t, ok)
		bal = a.BalanceFen
		return err
	}))
	return bal
}

func (f *fixture) account(no uint64) store.Account {
	var a store.Account
	require.NoError(f.t, f.db.View(func(tx *store.Tx) error {
		var err error
		a, _, err = tx.Account(no)
		return err
	}))
	return a
}

func send(t *testing.T, p *posclient.Terminal, m *iso8583.Message) (*iso8583.Message, []byte) {
	t.Helper()
	resp, raw, err := p.Send(context.Background(), m, true)
	require.NoError(t, err)
	return resp, raw
}

func balance54(t *testing.T, resp *iso8583.Message) []iso8583.Balance {
	t.Helper()
	bs, err := iso8583.ParseBalances(resp.Bytes(54), nil)
	require.NoError(t, err)
	return bs
}
