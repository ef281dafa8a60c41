package service

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func TestLifecycle(t *testing.T) {
	noLeaks(t)
	require.ErrorIs(t, New(Options{Tokens: tokenCheck}).Start(), ErrNoStore)
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.ErrorIs(t, New(Options{DB: db}).Start(), ErrNoTokens)

	s := New(Options{DB: db, Tokens: tokenCheck, Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	require.Equal(t, "127.0.0.1:0", s.Addr())
	require.NoError(t, s.Shutdown(context.Background()), "before Start")
	require.NoError(t, s.Start())
	require.NotEqual(t, "127.0.0.1:0", s.Addr())
	require.ErrorIs(t, s.Start(), ErrStarted)
	require.NoError(t, s.Shutdown(context.Background()))
	require.NoError(t, s.Shutdown(context.Background()), "twice")
	require.Equal(t, DefaultAddr, New(Options{}).Addr())
}

// A store failure answers 500 internal without detail, and is logged.
func TestStoreFailureIsInternal(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "gw.db"), store.Options{})
	require.NoError(t, err)
	require.NoError(t, db.Close())
	var logs bytes.Buffer
	s := New(Options{DB: db, Tokens: tokenCheck, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/v1/accounts/1001", ""},
		{http.MethodPost, "/v1/accounts/1001/loss", ""},
		{http.MethodPost, "/v1/topups", topUpBody("T1", 100, `"account":"1001"`)},
	} {
		w := serve(s, c.method, c.path, "application/json", []byte(c.body))
		require.Equal(t, http.StatusInternalServerError, w.Code, c.path)
		require.JSONEq(t, `{"code":"internal","message":"internal error; nothing was changed"}`, w.Body.String())
	}
	require.Contains(t, logs.String(), "store: closed")
}
