package service

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// fuzzServer is a server over a fresh store with the demo accounts,
// answered in-process (no listener).
func fuzzServer(f *testing.F) *Server {
	db, err := store.Open(filepath.Join(f.TempDir(), "gw.db"), store.Options{StorageKey: make([]byte, 32)})
	require.NoError(f, err)
	f.Cleanup(func() { _ = db.Close() })
	_, _, err = db.ImportAccounts(context.Background(), demoAccounts())
	require.NoError(f, err)
	return New(Options{DB: db, Tokens: tokenCheck, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return testNow }, MaxImportBytes: 1 << 20})
}

func seed(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	require.NoError(f, err)
	require.NotEmpty(f, files, pattern)
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
}

func serve(s *Server, method, path, ctype string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// statusOf is the status each error code is answered with.
var statusOf = map[string][]int{
	CodeBadRequest:   {400, 405, 413, 415},
	CodeNotFound:     {404},
	CodeConflict:     {409},
	CodeLimit:        {422},
	CodeInsufficient: {422},
	CodeFrozen:       {422},
}

// checkAnswer: never 500, always a JSON object, an error always with a
// known code matching its status and without a card-like number.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.NotEqual(t, http.StatusInternalServerError, w.Code, w.Body.String())
	require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), w.Body.String())
	if w.Code >= 400 {
		code, _ := m["code"].(string)
		require.Contains(t, statusOf[code], w.Code, w.Body.String())
		require.False(t, cardLike.MatchString(m["message"].(string)), "message quotes a number: %s", w.Body.String())
	}
	return m
}

// fuzzIdempotent: any body, sent twice, gets the same answer twice (a
// remembered outcome or a deterministic refusal), and never a 500.
func fuzzIdempotent(f *testing.F, path, seeds string) {
	seed(f, seeds)
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := serve(s, http.MethodPost, path, "application/json", body)
		checkAnswer(t, w)
		again := serve(s, http.MethodPost, path, "application/json", body)
		require.Equal(t, w.Code, again.Code)
		require.Equal(t, w.Body.String(), again.Body.String())
	})
}

func FuzzTopUpBody(f *testing.F) { fuzzIdempotent(f, "/v1/topups", "testdata/topup/*.json") }

func FuzzFeeBody(f *testing.F) { fuzzIdempotent(f, "/v1/fees", "testdata/fee/*.json") }

// FuzzImportBody: any file is imported whole (and then again changes
// nothing) or refused with a 4xx.
func FuzzImportBody(f *testing.F) {
	seed(f, filepath.Join(accountsDir, "*.csv"))
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := serve(s, http.MethodPost, "/v1/accounts/import", "text/csv", body)
		m := checkAnswer(t, w)
		if w.Code != http.StatusOK {
			return
		}
		again := checkAnswer(t, serve(s, http.MethodPost, "/v1/accounts/import", "text/csv", body))
		require.Equal(t, float64(0), again["created"])
		require.Equal(t, float64(0), again["updated"])
		require.Equal(t, m["rows"], again["rows"])
	})
}

// FuzzQuery: the query decoders of the read endpoints.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{"limit=20", "limit=2&before=9", "before=0", "since=4294967295", "limit=-1", "since=1e3", "limit=%00"} {
		f.Add(q)
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, q string) {
		for _, path := range []string{"/v1/accounts/1001/history", "/v1/blacklist"} {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path, req.URL.RawQuery = path, q
			req.Header.Set("Authorization", "Bearer "+testToken)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			checkAnswer(t, w)
			require.Contains(t, []int{200, 400}, w.Code)
		}
	})
}
