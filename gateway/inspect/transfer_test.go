package inspect

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// tightListener gives every accepted connection a small send buffer, so
// that a client which stops reading stalls the server's writes at once
// instead of after megabytes of kernel buffers.
type tightListener struct{ net.Listener }

func (l tightListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// serveLimited serves the handlers with a transfer limit; done receives
// the path of every request whose handler has returned.
func serveLimited(t *testing.T, db *store.DB, limit time.Duration) (addr string, done chan string) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	done = make(chan string, 16)
	mux := http.NewServeMux()
	mux.Handle("GET /journal", JournalHandler(db, log, limit))
	mux.Handle("GET /backup", BackupHandler(db, log, limit))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- r.URL.Path }()
		mux.ServeHTTP(w, r)
	}))
	srv.Listener = tightListener{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), done
}

// stalledGet sends GET path on a connection with a small receive buffer,
// reads the answer's headers and then stops reading, like a client that
// hangs. It returns the answer whose body is still to be read.
func stalledGet(t *testing.T, addr, path string) *http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.(*net.TCPConn).SetReadBuffer(4096))
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	require.NoError(t, err)
	require.NoError(t, req.Write(c))
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 512), req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp
}

// requireCut reads what is left of a stalled answer: it must not end with
// the gateway's confirmation.
func requireCut(t *testing.T, resp *http.Response) {
	t.Helper()
	_, err := io.Copy(io.Discard, resp.Body)
	if err == nil {
		require.NotContains(t, resp.Trailer.Get(ResultTrailer), "ok", "a cut transfer is not confirmed")
	}
}

func waitDone(t *testing.T, done chan string, path string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case p := <-done:
			if p == path {
				return time.Now()
			}
		case <-deadline:
			t.Fatalf("%s still running after %v", path, within)
		}
	}
}

// A backup whose reader stops is cut off when the transfer limit ends,
// and its read transaction with it; meanwhile the store takes writes.
func TestStalledBackupIsCut(t *testing.T) {
	db, err := store.Open(newStore(t, 3000), store.Options{})
	require.NoError(t, err)
	const limit = 1500 * time.Millisecond
	addr, done := serveLimited(t, db, limit)

	start := time.Now()
	resp := stalledGet(t, addr, "/backup")
	for i := 3001; i <= 3010; i++ {
		appendRecords(t, db, i, i)
	}
	require.Less(t, time.Since(start), limit, "writes were blocked by the stalled backup")
	ended := waitDone(t, done, "/backup", limit+5*time.Second)
	require.Less(t, ended.Sub(start), limit+2*time.Second)

	// Close waits for every read transaction: it returns at once only if
	// the backup's has ended.
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("the backup's read transaction is still open")
	}
	requireCut(t, resp)
}

// A journal export has the same limit: a reader that stops holds no
// goroutine of the gateway beyond it.
func TestStalledJournalExportIsCut(t *testing.T) {
	db := openStore(t, newStore(t, 3000))
	const limit = time.Second
	addr, done := serveLimited(t, db, limit)
	start := time.Now()
	resp := stalledGet(t, addr, "/journal?since=1&format=json")
	ended := waitDone(t, done, "/journal", limit+5*time.Second)
	require.Less(t, ended.Sub(start), limit+2*time.Second)
	requireCut(t, resp)
}

// One backup at a time: a second one while the first runs is refused with
// 429 and Retry-After, and the next after it is served.
func TestOneBackupAtATime(t *testing.T) {
	db := openStore(t, newStore(t, 3000))
	const limit = time.Second
	addr, done := serveLimited(t, db, limit)
	first := stalledGet(t, addr, "/backup")

	_, err := FetchBackup(context.Background(), nil, addr, "", io.Discard)
	require.ErrorIs(t, err, ErrAdmin)
	require.ErrorIs(t, err, ErrBusy)
	resp, err := http.Get("http://" + addr + "/backup")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	// Journal exports are not backups: served meanwhile.
	_, _, err = FetchJournal(context.Background(), nil, addr, "", Query{Tail: 2}, io.Discard)
	require.NoError(t, err)

	waitDone(t, done, "/backup", limit+5*time.Second)
	requireCut(t, first)
	n, err := FetchBackup(context.Background(), nil, addr, "", io.Discard)
	require.NoError(t, err)
	require.Positive(t, n)
}

// The client sends the admin token it is given, and says what a refusal
// means.
func TestFetchSendsAdminToken(t *testing.T) {
	const tok = "adm-token-0123456789abcdefghijklmnopqrstuv"
	db := openStore(t, newStore(t, 3))
	inner := http.NewServeMux()
	inner.Handle("GET /journal", JournalHandler(db, slog.New(slog.DiscardHandler), 0))
	inner.Handle("GET /backup", BackupHandler(db, slog.New(slog.DiscardHandler), 0))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	_, err := FetchBackup(context.Background(), nil, addr, tok, io.Discard)
	require.NoError(t, err)
	_, _, err = FetchJournal(context.Background(), nil, addr, tok, Query{Tail: 1}, io.Discard)
	require.NoError(t, err)

	_, err = FetchBackup(context.Background(), nil, addr, "wrong-token-0123456789abcdefghijklmno", io.Discard)
	require.ErrorIs(t, err, ErrAdmin)
	require.Contains(t, err.Error(), "admin_tokens")
	require.NotContains(t, err.Error(), "wrong-token")
}
