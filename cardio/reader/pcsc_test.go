package reader

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/campuscard"
	"ecardgw/cardio/desk"
	"ecardgw/cardio/pboc"
	"ecardgw/cardio/pcsctest"
	"ecardgw/cardio/vcard"
)

// These tests run through the real stack: ebfe/scard → pcscd → vpcd →
// the virtual card over TCP. Every wait is bounded by waitFor.
const waitFor = 15 * time.Second

var (
	master   = [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}
	deskName = pcsctest.VPCDReader + " 00 00"
	setlName = pcsctest.VPCDReader + " 00 01"
	bindings = []Binding{
		{Pattern: deskName, Terminal: "DESK0001", Role: RoleDesk},
		{Pattern: setlName, Terminal: "SETL0001", Role: RoleSettlement},
	}
	setlTerm = [6]byte{0x00, 0x00, 0x53, 0x45, 0x54, 0x4C}
)

type event struct {
	reader string
	state  ReaderState
}

// harness runs a manager for one test and collects what it reports.
type harness struct {
	t      *testing.T
	mgr    *Manager
	events chan event
	cards  chan error // one per OnCard, the result of the test's card work
}

func startManager(t *testing.T, onCard func(ctx context.Context, r ReaderInfo, c apdu.Transmitter) error) *harness {
	t.Helper()
	pcsctest.Require(t)
	h := &harness{t: t, events: make(chan event, 64), cards: make(chan error, 16)}
	mgr, err := New(Config{
		Bindings:   bindings,
		MinBackoff: 50 * time.Millisecond,
		MaxBackoff: 500 * time.Millisecond,
		Poll:       500 * time.Millisecond,
		OnState: func(r ReaderInfo, s ReaderState) {
			select {
			case h.events <- event{r.Name, s}:
			default:
				t.Errorf("event channel full")
			}
		},
		OnCard: func(ctx context.Context, r ReaderInfo, c apdu.Transmitter) {
			h.cards <- onCard(ctx, r, c)
		},
	})
	require.NoError(t, err)
	h.mgr = mgr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(waitFor):
			t.Error("manager did not stop")
		}
		requireNoLeak(t)
	})
	return h
}

// requireNoLeak checks that no manager or card goroutine outlived Run.
func requireNoLeak(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "ecardgw/cardio/reader.(*Manager)") {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("manager goroutines leaked:\n%s", stacks)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitState waits until reader reports st, skipping other events.
func (h *harness) waitState(reader string, st ReaderState) {
	h.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case e := <-h.events:
			if e.reader == reader && e.state == st {
				return
			}
		case <-deadline:
			h.t.Fatalf("%s never became %s", reader, st)
		}
	}
}

func (h *harness) waitCard() error {
	h.t.Helper()
	select {
	case err := <-h.cards:
		return err
	case <-time.After(waitFor):
		h.t.Fatal("no card handled")
		return nil
	}
}

func newCard(t *testing.T) *vcard.Card {
	t.Helper()
	c, err := vcard.New(vcard.DemoConfig(master))
	require.NoError(t, err)
	return c
}

// ejectAtEnd removes the card when the test ends and waits until this
// test's manager saw the reader empty, so the next test does not meet a
// card pcscd still believes present.
func (h *harness) ejectAtEnd(c *vcard.Card, reader string) {
	h.t.Cleanup(func() {
		c.Remove()
		deadline := time.Now().Add(waitFor)
		for h.mgr.States()[reader] != StateEmpty {
			if time.Now().After(deadline) {
				h.t.Errorf("%s not empty after the test", reader)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func insert(t *testing.T, c *vcard.Card, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, c.Insert(ctx, addr))
}

func TestReadCardAtDesk(t *testing.T) {
	got := make(chan desk.CardData, 1)
	h := startManager(t, func(_ context.Context, r ReaderInfo, c apdu.Transmitter) error {
		if r.Role != RoleDesk || r.Terminal != "DESK0001" {
			return errors.New("wrong binding for desk reader")
		}
		d, err := desk.ReadCard(c)
		got <- d
		return err
	})
	h.waitState(deskName, StateEmpty)
	card := newCard(t)
	h.ejectAtEnd(card, deskName)
	require.NoError(t, card.Spend(120))
	insert(t, card, vcard.Slot0Addr)
	h.waitState(deskName, StatePresent)
	require.NoError(t, h.waitCard())
	d := <-got
	require.Equal(t, "202601234567", d.Info.CardNumber())
	require.Equal(t, vcard.DemoSerial, d.Info.Serial)
	require.Equal(t, []byte{0x04, 0xA1, 0xB2, 0xC3}, d.UID)
	require.Equal(t, uint64(10000042), d.Holder.Account)
	require.Equal(t, "张三", d.Holder.Name)
	require.Equal(t, int64(230), d.Balance)
	require.True(t, d.CounterKnown)
	require.Equal(t, uint16(0), d.Counter)
}

func TestInsertRemoveReinsert(t *testing.T) {
	h := startManager(t, func(_ context.Context, _ ReaderInfo, c apdu.Transmitter) error {
		_, err := desk.ReadCard(c)
		return err
	})
	h.waitState(deskName, StateEmpty)
	card := newCard(t)
	h.ejectAtEnd(card, deskName)
	for range 2 {
		insert(t, card, vcard.Slot0Addr)
		h.waitState(deskName, StatePresent)
		require.NoError(t, h.waitCard())
		require.Equal(t, StatePresent, h.mgr.States()[deskName])
		card.Remove()
		h.waitState(deskName, StateEmpty)
	}
	require.Equal(t, StateEmpty, h.mgr.States()[deskName])
	require.Empty(t, h.cards, "one OnCard per insertion, no more")
}

// authorize plays the gateway: derive the card key from the serial, check
// MAC1, answer MAC2 for the date and time the terminal will send.
func authorize(t *testing.T, amount int64, dt [7]byte) campuscard.Authorizer {
	return func(info campuscard.AppInfo, li campuscard.LoadInit) ([4]byte, error) {
		key, err := pboc.DeriveCardKey(master, info.Serial[:])
		if err != nil {
			return [4]byte{}, err
		}
		sk := pboc.SessionKey(key, li.Random, li.Counter)
		if !pboc.Equal(li.MAC1, pboc.MAC1(sk, uint32(li.Balance), uint32(amount), setlTerm)) {
			return [4]byte{}, errors.New("MAC1 mismatch")
		}
		return pboc.MAC2(sk, uint32(amount), setlTerm, dt), nil
	}
}

func TestSettlementLoad(t *testing.T) {
	dt := pboc.DateTime(time.Date(2026, 11, 26, 9, 15, 0, 0, time.UTC))
	results := make(chan campuscard.LoadResult, 1)
	h := startManager(t, func(_ context.Context, r ReaderInfo, c apdu.Transmitter) error {
		if r.Role != RoleSettlement {
			return errors.New("load on a non-settlement reader")
		}
		// Top the wallet back up to the limit, as the settlement POS does.
		cc := campuscard.New(c)
		if err := cc.Select(); err != nil {
			return err
		}
		bal, err := cc.Balance()
		if err != nil {
			return err
		}
		amount := vcard.WalletLimit - bal
		res, err := cc.Load(campuscard.LoadRequest{KeyIndex: 1, Amount: amount, Terminal: setlTerm, DateTime: dt}, authorize(t, amount, dt))
		results <- res
		return err
	})
	h.waitState(setlName, StateEmpty)
	card := newCard(t)
	h.ejectAtEnd(card, setlName)
	require.NoError(t, card.Spend(300))
	insert(t, card, vcard.Slot1Addr)
	require.NoError(t, h.waitCard())
	res := <-results

	require.Equal(t, int64(1000), card.Balance())
	require.Equal(t, uint16(1), card.Counter())
	key, err := pboc.DeriveCardKey(master, vcard.DemoSerial[:])
	require.NoError(t, err)
	sk := pboc.SessionKey(key, res.Init.Random, res.Init.Counter)
	require.Equal(t, pboc.TAC(sk, 1000, 0, 950, setlTerm, dt), res.TAC)
	log := card.Log()
	require.Len(t, log, 2)
	require.Equal(t, campuscard.LogRecord{Counter: 0, Amount: 950, Type: pboc.TypeLoad, Terminal: setlTerm, DateTime: dt}, log[0])
}

func TestCardPulledDuringLoad(t *testing.T) {
	dt := pboc.DateTime(time.Date(2026, 11, 26, 9, 20, 0, 0, time.UTC))
	card := newCard(t)
	authorized := make(chan struct{}, 1)
	h := startManager(t, func(_ context.Context, _ ReaderInfo, c apdu.Transmitter) error {
		inner := authorize(t, 500, dt)
		_, err := campuscard.New(c).Load(campuscard.LoadRequest{KeyIndex: 1, Amount: 500, Terminal: setlTerm, DateTime: dt},
			func(info campuscard.AppInfo, li campuscard.LoadInit) ([4]byte, error) {
				mac2, err := inner(info, li)
				authorized <- struct{}{}
				card.Remove() // the holder pulls the card while the gateway answers
				return mac2, err
			})
		return err
	})
	h.waitState(setlName, StateEmpty)
	h.ejectAtEnd(card, setlName)
	insert(t, card, vcard.Slot1Addr)
	err := h.waitCard()
	require.Len(t, authorized, 1)
	require.ErrorIs(t, err, campuscard.ErrLoadIncomplete, "the caller must learn to reverse")
	require.ErrorIs(t, err, apdu.ErrCardRemoved)
	require.Equal(t, int64(350), card.Balance(), "nothing credited")
	require.Equal(t, uint16(0), card.Counter())
	h.waitState(setlName, StateEmpty)
}

func TestPcscdRestart(t *testing.T) {
	// Restart stops a pcscd started outside the tests too (CI's), as an
	// operator restarting the service would, and starts the tests' own.
	d := pcsctest.Require(t)
	h := startManager(t, func(_ context.Context, _ ReaderInfo, c apdu.Transmitter) error {
		_, err := desk.ReadCard(c)
		return err
	})
	card := newCard(t)
	h.ejectAtEnd(card, deskName)
	insert(t, card, vcard.Slot0Addr)
	h.waitState(deskName, StatePresent)
	require.NoError(t, h.waitCard())

	require.NoError(t, d.Restart())
	h.waitState(deskName, StateError)
	h.waitState(deskName, StatePresent)
	require.NoError(t, h.waitCard(), "the card is read again after pcscd came back")
	require.GreaterOrEqual(t, card.Inserts(), 2, "the card reconnected to the new vpcd")
}

// TestCancelWakesStatusWait: with a one-minute poll, only SCardCancel can
// end the status wait promptly when the context ends.
func TestCancelWakesStatusWait(t *testing.T) {
	pcsctest.Require(t)
	seen := make(chan struct{}, 8)
	mgr, err := New(Config{
		Bindings: bindings,
		Poll:     time.Minute,
		OnState:  func(ReaderInfo, ReaderState) { seen <- struct{}{} },
		OnCard:   func(context.Context, ReaderInfo, apdu.Transmitter) {},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Run(ctx) }()
	select {
	case <-seen: // the monitor is inside GetStatusChange from now on
	case <-time.After(waitFor):
		t.Fatal("no reader reported")
	}
	time.Sleep(100 * time.Millisecond)
	require.ErrorIs(t, mgr.Run(ctx), ErrRunning)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
		require.Less(t, time.Since(start), 5*time.Second)
	case <-time.After(waitFor):
		t.Fatal("Run did not return after cancel")
	}
	requireNoLeak(t)
}
