package txn

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/iso8583"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// exported makes an unexported field of an addressable struct usable.
func exported(f reflect.Value) reflect.Value {
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// fillNonZero sets every field of the struct v points to (unexported ones
// too) to a value that is not its zero value.
func fillNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f := exported(v.Field(i))
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(i + 1))
		case reflect.String:
			f.SetString("x")
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Struct:
			fillNonZero(t, f)
		case reflect.Array:
			for j := range f.Len() {
				f.Index(j).Set(reflect.ValueOf(byte(j + 1)).Convert(f.Type().Elem()))
			}
		default:
			t.Fatalf("fillNonZero: field %s of kind %s", v.Type().Field(i).Name, f.Kind())
		}
		require.False(t, f.IsZero(), "field %s", v.Type().Field(i).Name)
	}
}

// requireSamePreTxn compares two preTxn field by field and names the
// fields that differ (a dump of the whole would follow the engine's
// pointers into the store's memory map).
func requireSamePreTxn(t *testing.T, want, got preTxn) {
	t.Helper()
	wv, gv := reflect.ValueOf(&want).Elem(), reflect.ValueOf(&got).Elem()
	var differ []string
	for i := range wv.NumField() {
		if !reflect.DeepEqual(exported(wv.Field(i)).Interface(), exported(gv.Field(i)).Interface()) {
			differ = append(differ, wv.Type().Field(i).Name)
		}
	}
	require.Empty(t, differ, "fields decided before the transaction were not kept")
}

// The store may run a transaction function more than once (group commit
// retry): reset must keep everything decided before the transaction, field
// by field, whatever fields there are, and start the decision and the
// answer from zero.
func TestResetKeepsWhatWasDecidedBeforeTheTransaction(t *testing.T) {
	var c call
	fillNonZero(t, reflect.ValueOf(&c).Elem())
	before := c.preTxn
	tx := new(store.Tx)
	c.reset(tx)
	requireSamePreTxn(t, before, c.preTxn)
	require.Same(t, tx, c.tx)
	require.Equal(t, decision{rec: store.Record{Time: c.now, Key: c.key, ProcCode: c.proc, Location: c.term.Location}}, c.decision)
	require.Zero(t, c.reply)
}

// approvingCentre approves every request with a balance the local ledger
// cannot have computed.
type approvingCentre struct{}

const centreBalance = 4321

func (approvingCentre) Authorize(context.Context, AuthRequest) (AuthResult, error) {
	return AuthResult{RC: RCApproved, Account: 1001, BalanceFen: centreBalance, Status: "active"}, nil
}

// A connected-mode purchase whose first run of the transaction function is
// rolled back is decided again from the centre's answer, obtained before
// the transaction: the second run must still have it (the local rules
// would debit the replica instead).
func TestRetriedTransactionKeepsTheCentresAnswer(t *testing.T) {
	const card = "123456789012"
	tmk := []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01}
	now := func() time.Time { return time.Date(2026, 11, 26, 4, 30, 0, 0, time.UTC) }
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{StorageKey: make([]byte, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	_, _, err = db.ImportAccounts(ctx, []store.Account{{No: 1001, Name: "Zhang San", CardNumber: card,
		CardSerial: "00000000" + card, BalanceFen: 10000, Status: store.StatusActive}})
	require.NoError(t, err)
	e, err := New(Config{DB: db, Now: now, Centre: approvingCentre{},
		Terminals: []Terminal{{ID: "T0000001", Merchant: "M00000000000001", Type: TypePOS, TMK: tmk}}})
	require.NoError(t, err)
	p := &posclient.Terminal{ID: "T0000001", Merchant: "M00000000000001", TMK: tmk, Now: now,
		T: posclient.TransportFunc(func(ctx context.Context, req []byte) ([]byte, error) { return e.Handle(ctx, req), nil })}
	_, err = p.SignIn(ctx, 1)
	require.NoError(t, err)
	frame, err := iso8583.AppendFrame(nil, p.CardPurchase(card, 100, nil), p.MAK)
	require.NoError(t, err)

	w := e.work.Get().(*work)
	w.req.Reset()
	w.resp.Reset()
	require.NoError(t, iso8583.DecodeFrame(&w.req, frame))
	c, _, _ := e.accept(w)
	require.NotNil(t, c)
	_, retrans := e.beforeStore(ctx, c)
	require.False(t, retrans)
	require.NotNil(t, c.online, "the centre answered before the transaction")
	pre := c.preTxn

	errRetry := errors.New("another function of the group failed")
	err = db.Update(ctx, func(tx *store.Tx) error {
		if err := c.decide(tx); err != nil {
			return err
		}
		require.Equal(t, RCApproved, c.rc)
		return errRetry
	})
	require.ErrorIs(t, err, errRetry)
	requireSamePreTxn(t, pre, c.preTxn)

	require.NoError(t, db.Update(ctx, w.decide))
	require.False(t, c.retrans)
	require.Equal(t, RCApproved, c.rc)
	require.Equal(t, "online", c.rec.Note)
	requireSamePreTxn(t, pre, c.preTxn)
	require.NoError(t, db.View(func(tx *store.Tx) error {
		a, ok, err := tx.Account(1001)
		require.True(t, ok)
		require.Equal(t, int64(centreBalance), a.BalanceFen, "the replica follows the centre")
		n := 0
		require.NoError(t, tx.JournalSince(0, func(r *store.Record) error {
			if r.Key == c.key {
				n++
			}
			return nil
		}))
		require.Equal(t, 1, n, "the rolled-back run left no record")
		return err
	}))
}
