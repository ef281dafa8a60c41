package service

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/gateway/txn"
)

var tmkPOS = []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x01}

// withEngine starts the fixture with a real transaction engine over the
// same store, wired as the daemon wires it: OnBlacklist is the engine's
// BlacklistChanged.
func withEngine(t *testing.T) (*fixture, *txn.Engine) {
	var eng atomic.Pointer[txn.Engine]
	f := newFixture(t, func(o *Options) {
		o.Now = time.Now
		o.OnBlacklist = func(v uint32) { eng.Load().BlacklistChanged(v) }
	})
	e, err := txn.New(txn.Config{DB: f.db, Terminals: []txn.Terminal{
		{ID: "T0000001", Merchant: "M00000000000001", Type: txn.TypePOS, TMK: tmkPOS, Location: "canteen 1"},
		{ID: "T0000002", Merchant: "M00000000000001", Type: txn.TypePOS, TMK: tmkPOS, Location: "canteen 2"},
	}})
	require.NoError(t, err)
	eng.Store(e)
	return f, e
}

func signedIn(t *testing.T, e *txn.Engine, id string) *posclient.Terminal {
	p := &posclient.Terminal{ID: id, Merchant: "M00000000000001", TMK: tmkPOS,
		T: posclient.TransportFunc(func(ctx context.Context, req []byte) ([]byte, error) {
			return e.Handle(ctx, req), nil
		})}
	_, err := p.SignIn(context.Background(), 1)
	require.NoError(t, err)
	return p
}

// purchase pays one fen with card at p and returns the answer code and the
// header's processing requirement.
func purchase(t *testing.T, p *posclient.Terminal, card string) (string, byte) {
	t.Helper()
	resp, _, err := p.Send(context.Background(), p.CardPurchase(card, 1, nil), true)
	require.NoError(t, err)
	return posclient.RC(resp), resp.Header.ProcessingRequirement()
}

// download runs 0800/390 from the terminal's version until the
// more-follows flag is 00, and returns the pages' entry counts and the
// entries as "+card" / "-card".
func download(t *testing.T, p *posclient.Terminal) ([]int, []string) {
	t.Helper()
	var pages []int
	var entries []string
	for range 100 {
		m := p.New(800, -1, 390)
		require.NoError(t, m.SetBytes(62, binary.BigEndian.AppendUint32(nil, p.BlacklistVersion)))
		resp, _, err := p.Send(context.Background(), m, false)
		require.NoError(t, err)
		require.Equal(t, "00", posclient.RC(resp))
		v := resp.Bytes(62)
		require.GreaterOrEqual(t, len(v), 5)
		require.Zero(t, (len(v)-5)%7)
		ver := binary.BigEndian.Uint32(v)
		require.GreaterOrEqual(t, ver, p.BlacklistVersion)
		p.BlacklistVersion = ver
		pages = append(pages, (len(v)-5)/7)
		for e := v[5:]; len(e) > 0; e = e[7:] {
			card := fmt.Sprintf("%X", e[:6])
			switch e[6] {
			case 1:
				entries = append(entries, "+"+card)
			case 0:
				entries = append(entries, "-"+card)
			default:
				t.Fatalf("action %#x", e[6])
			}
		}
		switch v[4] {
		case 0:
			return pages, entries
		case 1:
		default:
			t.Fatalf("more-follows flag %#x", v[4])
		}
	}
	t.Fatal("the download never ended")
	return nil, nil
}

// TestLossStopsTheCardAtEveryTerminal is promise 6: once the service API
// has answered a loss, the very next purchase with that card at any
// terminal is declined 41, and answers tell terminals with an older
// blacklist to download it (processing requirement 6) until they have.
func TestLossStopsTheCardAtEveryTerminal(t *testing.T) {
	f, e := withEngine(t)
	t1, t2 := signedIn(t, e, "T0000001"), signedIn(t, e, "T0000002")
	rc, proc := purchase(t, t1, cardOK)
	require.Equal(t, "00", rc)
	require.Equal(t, byte(0), proc, "no newer blacklist yet")

	start := time.Now()
	r := f.call(http.MethodPost, "/v1/accounts/1001/loss", testToken, "", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	rc, proc = purchase(t, t2, cardOK)
	elapsed := time.Since(start)
	require.Equal(t, "41", rc, "the next purchase after the answer is declined")
	require.Equal(t, byte(6), proc, "and the terminal is told to download the blacklist")
	require.Less(t, elapsed, time.Second)
	rc, proc = purchase(t, t1, cardOK)
	require.Equal(t, "41", rc)
	require.Equal(t, byte(6), proc)
	rc, proc = purchase(t, t1, cardPoor)
	require.Equal(t, "00", rc, "other cards go on working")
	require.Equal(t, byte(6), proc, "every answer carries the request")

	// 200 more losses, from concurrent callers, so the download needs
	// several pages of field 62.
	var csv []string
	for i := range 200 {
		card := fmt.Sprintf("7000000%05d", i)
		csv = append(csv, fmt.Sprintf("%d,Student %d,%s,00000000%s,100,active,S%d", 3000+i, i, card, card, i))
	}
	require.Equal(t, http.StatusOK, f.importCSV(csvFile(csv...)).status)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r, err := f.try(http.MethodPost, fmt.Sprintf("/v1/accounts/%d/loss", 3000+i), testToken, "", nil)
				if err != nil || r.status != http.StatusOK {
					t.Errorf("loss %d: %v %d %s", i, err, r.status, r.body)
				}
			}
		}()
	}
	for i := range 200 {
		work <- i
	}
	close(work)
	wg.Wait()

	pages, entries := download(t, t2)
	require.Equal(t, []int{72, 72, 57}, pages)
	require.Equal(t, uint32(201), t2.BlacklistVersion)
	require.Len(t, entries, 201)
	require.Equal(t, "+"+cardOK, entries[0])
	for _, en := range entries[1:] {
		require.True(t, strings.HasPrefix(en, "+7000000"), en)
	}
	rc, proc = purchase(t, t2, cardPoor)
	require.Equal(t, "00", rc)
	require.Equal(t, byte(0), proc, "a terminal holding the newest list is not asked again")
	_, proc = purchase(t, t1, cardPoor)
	require.Equal(t, byte(6), proc, "one that has not downloaded still is")
	rc, _ = purchase(t, t2, "700000000150")
	require.Equal(t, "41", rc)

	// Cancelling the loss: the card works again at once, and the removal
	// is the next delta.
	r = f.call(http.MethodDelete, "/v1/accounts/1001/loss", testToken, "", nil)
	require.Equal(t, http.StatusOK, r.status)
	rc, proc = purchase(t, t2, cardOK)
	require.Equal(t, "00", rc)
	require.Equal(t, byte(6), proc)
	pages, entries = download(t, t2)
	require.Equal(t, []int{1}, pages)
	require.Equal(t, []string{"-" + cardOK}, entries)
	_, proc = purchase(t, t2, cardOK)
	require.Equal(t, byte(0), proc)
}
