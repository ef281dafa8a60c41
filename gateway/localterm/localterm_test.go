package localterm_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/pcsctest"
	"ecardgw/cardio/reader"
	"ecardgw/cardio/vcard"
	"ecardgw/gateway/localterm"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// The cards here go through the real transaction engine and store; the
// last test also goes through pcscd and the vpcd virtual reader.
func TestMain(m *testing.M) { pcsctest.Main(m) }

var (
	master = [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
	tmk    = []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01}
)

const account = 10000042

type rig struct {
	db      *store.DB
	eng     *txn.Engine
	st      *localterm.Station
	results chan localterm.Result
}

func newRig(t *testing.T) *rig {
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{StorageKey: make([]byte, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, _, err = db.ImportAccounts(context.Background(), []store.Account{{No: account, Name: "Zhang San",
		CardNumber: vcard.DemoCardNumber, CardSerial: "10000000" + vcard.DemoCardNumber, BalanceFen: 5000, Status: store.StatusActive}})
	require.NoError(t, err)
	eng, err := txn.New(txn.Config{DB: db, WalletMasterKey: master[:], Terminals: []txn.Terminal{
		{ID: "DESK0001", Merchant: "M00000000000009", Type: txn.TypePOS, TMK: tmk, Location: "service desk"},
		{ID: "SETL0001", Merchant: "M00000000000009", Type: txn.TypeSettlement, TMK: tmk, Location: "Jianxiangqiao bath house"},
	}})
	require.NoError(t, err)
	r := &rig{db: db, eng: eng, results: make(chan localterm.Result, 8)}
	r.st, err = localterm.New(localterm.Options{
		Handle: eng.Handle,
		Terminals: []localterm.Terminal{
			{ID: "DESK0001", Merchant: "M00000000000009", TMK: tmk},
			{ID: "SETL0001", Merchant: "M00000000000009", TMK: tmk},
		},
		OnResult: func(res localterm.Result) { r.results <- res },
	})
	require.NoError(t, err)
	return r
}

func (r *rig) account(t *testing.T) store.Account {
	var a store.Account
	require.NoError(t, r.db.View(func(tx *store.Tx) error {
		var err error
		a, _, err = tx.Account(account)
		return err
	}))
	return a
}

func (r *rig) journalKinds(t *testing.T) []string {
	var kinds []string
	require.NoError(t, r.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(rec *store.Record) error {
			if rec.Kind != store.KindSignIn {
				kinds = append(kinds, string(rec.Kind)+":"+rec.Resp)
			}
			return nil
		})
	}))
	return kinds
}

var deskReader = reader.ReaderInfo{Name: "test desk", Terminal: "DESK0001", Role: reader.RoleDesk}
var setlReader = reader.ReaderInfo{Name: "test settlement", Terminal: "SETL0001", Role: reader.RoleSettlement}

func TestDeskSyncAndSettlementLoad(t *testing.T) {
	r := newRig(t)
	card, err := vcard.New(vcard.DemoConfig(master))
	require.NoError(t, err)

	r.st.OnCard(context.Background(), deskReader, card)
	res := <-r.results
	require.NoError(t, res.Err)
	require.Equal(t, "00", res.RC)
	require.Equal(t, int64(5000), res.Balance)
	require.Equal(t, int64(350), res.Wallet)
	require.NotContains(t, res.CardMasked, vcard.DemoCardNumber)
	require.True(t, r.account(t).ECardActive, "the desk sync activates the electronic card")

	r.st.OnCard(context.Background(), setlReader, card)
	res = <-r.results
	require.NoError(t, res.Err)
	require.Equal(t, "00", res.RC)
	require.Equal(t, int64(650), res.Loaded)
	require.Equal(t, int64(1000), card.Balance(), "the card's wallet is back at the limit")
	require.Equal(t, int64(5000-650), r.account(t).BalanceFen)
	require.Equal(t, []string{"sync:00", "load:00", "water:00"}, r.journalKinds(t))
}

// pulling fails CREDIT FOR LOAD as a card taken off the reader does.
type pulling struct {
	card *vcard.Card
}

func (p pulling) Transmit(cmd []byte) ([]byte, error) {
	if len(cmd) > 1 && cmd[0] == 0x80 && cmd[1] == 0x52 {
		return nil, apdu.ErrCardRemoved
	}
	return p.card.Transmit(cmd)
}

func TestCardPulledDuringLoadIsReversed(t *testing.T) {
	r := newRig(t)
	card, err := vcard.New(vcard.DemoConfig(master))
	require.NoError(t, err)
	r.st.OnCard(context.Background(), setlReader, pulling{card})
	res := <-r.results
	require.Error(t, res.Err)
	require.True(t, res.Reversed)
	require.Equal(t, int64(350), card.Balance(), "the card was not credited")
	require.Equal(t, int64(5000), r.account(t).BalanceFen, "nothing lost: the account got its money back")
	require.Equal(t, []string{"load:00", "water:00", "reversal:00"}, r.journalKinds(t))

	// The same card loads on the next try with the same online counter.
	r.st.OnCard(context.Background(), setlReader, card)
	res = <-r.results
	require.NoError(t, res.Err)
	require.Equal(t, int64(1000), card.Balance())
}

// TestThroughPCSC runs the desk and settlement readers through pcscd: the
// reader manager finds the vpcd slots, the virtual card is inserted into
// each, and each insertion becomes a journaled request.
func TestThroughPCSC(t *testing.T) {
	pcsctest.Require(t)
	r := newRig(t)
	mgr, err := reader.New(reader.Config{
		Bindings: []reader.Binding{
			{Pattern: pcsctest.VPCDReader + " 00 00", Terminal: "DESK0001", Role: reader.RoleDesk},
			{Pattern: pcsctest.VPCDReader + " 00 01", Terminal: "SETL0001", Role: reader.RoleSettlement},
		},
		OnCard: r.st.OnCard,
		Poll:   500 * time.Millisecond,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("reader manager did not stop")
		}
	}()

	card, err := vcard.New(vcard.DemoConfig(master))
	require.NoError(t, err)
	wait := func() localterm.Result {
		select {
		case res := <-r.results:
			return res
		case <-time.After(20 * time.Second):
			t.Fatal("no card result from the reader")
		}
		return localterm.Result{}
	}
	insert := func(addr string) {
		ictx, icancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer icancel()
		require.NoError(t, card.Insert(ictx, addr))
	}

	insert(vcard.Slot0Addr)
	res := wait()
	require.NoError(t, res.Err)
	require.Equal(t, "DESK0001", res.Terminal)
	require.Equal(t, "00", res.RC)
	card.Remove()

	require.NoError(t, card.Spend(200))
	insert(vcard.Slot1Addr)
	res = wait()
	require.NoError(t, res.Err)
	require.Equal(t, "SETL0001", res.Terminal)
	require.Equal(t, int64(850), res.Loaded)
	require.Equal(t, int64(1000), card.Balance())
	card.Remove()
	require.Equal(t, int64(5000-850), r.account(t).BalanceFen)
}
