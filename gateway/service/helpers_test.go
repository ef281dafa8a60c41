package service

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

const (
	testToken  = "svc-token-for-tests-0123456789-abcdefghij"
	otherToken = "svc-token-for-tests-0123456789-abcdefghiX"
)

// Demo accounts (card numbers are the last 12 digits of the serials).
const (
	cardOK     = "123456789012"
	cardLost   = "223456789012"
	cardFrozen = "323456789012"
	cardPoor   = "423456789012"
)

func demoAccounts() []store.Account {
	return []store.Account{
		{No: 1001, Name: "Zhang San", CardNumber: cardOK, CardSerial: "00000000" + cardOK, BalanceFen: 10000, StaffNo: "2026001"},
		{No: 1002, Name: "Li Si", CardNumber: cardLost, CardSerial: "00000000" + cardLost, BalanceFen: 5000, Status: store.StatusLost, StaffNo: "2026002"},
		{No: 1003, Name: "Wang Wu", CardNumber: cardFrozen, CardSerial: "00000000" + cardFrozen, BalanceFen: 5000, Status: store.StatusFrozen, StaffNo: "2026003"},
		{No: 1004, Name: "赵六", CardNumber: cardPoor, CardSerial: "00000000" + cardPoor, BalanceFen: 100, StaffNo: "2026004"},
	}
}

var testNow = time.Date(2026, 11, 26, 4, 30, 0, 0, time.UTC)

type fixture struct {
	t      *testing.T
	db     *store.DB
	srv    *Server
	client *http.Client
	base   string

	logs *lockedBuffer

	mu       sync.Mutex
	versions []uint32 // OnBlacklist calls
}

// lockedBuffer collects the server's log output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tokenCheck(tok string) bool {
	return subtle.ConstantTimeCompare([]byte(tok), []byte(testToken)) == 1
}

// newFixture opens a store in a temp dir with the demo accounts and
// starts a server on a loopback port.
func newFixture(t *testing.T, mod ...func(*Options)) *fixture {
	t.Helper()
	noLeaks(t) // registered first: runs after every other cleanup
	f := &fixture{t: t}
	f.logs = &lockedBuffer{}
	t.Cleanup(func() {
		// Whatever was logged: never a card number or a token.
		out := f.logs.String()
		require.False(t, cardLike.MatchString(out), "a log line holds a card-like number:\n%s", out)
		require.NotContains(t, out, testToken)
		require.NotContains(t, out, otherToken)
	})
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{StorageKey: make([]byte, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	f.db = db
	_, _, err = db.ImportAccounts(context.Background(), demoAccounts())
	require.NoError(t, err)
	opts := Options{Addr: "127.0.0.1:0", DB: db, Tokens: tokenCheck, Now: func() time.Time { return testNow },
		OnBlacklist: f.onBlacklist, Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, m := range mod {
		m(&opts)
	}
	f.srv = New(opts)
	require.NoError(t, f.srv.Start())
	f.base = "http://" + f.srv.Addr()
	tr := &http.Transport{}
	f.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, f.srv.Shutdown(ctx))
	})
	return f
}

func (f *fixture) onBlacklist(v uint32) {
	f.mu.Lock()
	f.versions = append(f.versions, v)
	f.mu.Unlock()
}

func (f *fixture) blacklistCalls() []uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uint32(nil), f.versions...)
}

// resp is one answer: status, headers and the raw body.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

// code is the error code of an error answer.
func (r resp) code(t *testing.T) string {
	t.Helper()
	c, _ := r.json(t)["code"].(string)
	return c
}

// call sends a request with the test token (tok "" sends none).
func (f *fixture) call(method, path, tok, ctype string, body []byte) resp {
	f.t.Helper()
	r, err := f.try(method, path, tok, ctype, body)
	require.NoError(f.t, err)
	return r
}

// try is call for other goroutines than the test's: it reports an error
// instead of stopping the test.
func (f *fixture) try(method, path, tok, ctype string, body []byte) (resp, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		return resp{}, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}, err
}

func (f *fixture) get(path string) resp { return f.call(http.MethodGet, path, testToken, "", nil) }

func (f *fixture) postJSON(path string, v any) resp {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	default:
		var err error
		b, err = json.Marshal(v)
		require.NoError(f.t, err)
	}
	return f.call(http.MethodPost, path, testToken, "application/json", b)
}

func (f *fixture) account(no uint64) store.Account {
	f.t.Helper()
	var a store.Account
	require.NoError(f.t, f.db.View(func(tx *store.Tx) error {
		var err error
		var ok bool
		a, ok, err = tx.Account(no)
		require.True(f.t, ok)
		return err
	}))
	return a
}

// journal returns the whole journal, oldest first.
func (f *fixture) journal() []store.Record {
	f.t.Helper()
	var out []store.Record
	require.NoError(f.t, f.db.View(func(tx *store.Tx) error {
		return tx.JournalSince(0, func(r *store.Record) error {
			out = append(out, *r)
			return nil
		})
	}))
	return out
}

func (f *fixture) lastRecord() store.Record {
	f.t.Helper()
	j := f.journal()
	require.NotEmpty(f.t, j)
	return j[len(j)-1]
}
