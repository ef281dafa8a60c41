package inspect

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

func serve(t *testing.T, db *store.DB) string {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	mux.Handle("GET /journal", JournalHandler(db, log, 0))
	mux.Handle("GET /backup", BackupHandler(db, log, 0))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Online and offline exports are the same bytes.
func TestFetchJournalMatchesExport(t *testing.T) {
	db := openStore(t, newStore(t, 700))
	addr := serve(t, db)
	for _, f := range []Format{FormatCSV, FormatJSON, FormatText} {
		q := Query{Range: Range{Since: Bound{Seq: 5}, Until: Bound{Time: t0.Add(650e9)}}, Format: f}
		var online bytes.Buffer
		n, last, err := FetchJournal(context.Background(), nil, addr, "", q, &online)
		require.NoError(t, err)
		require.Equal(t, 646, n)
		require.Equal(t, uint64(700), last)

		var offline bytes.Buffer
		w := NewWriter(&offline, f)
		_, err = Export(db, q.Range, w)
		require.NoError(t, err)
		require.NoError(t, w.Flush())
		require.Equal(t, offline.String(), online.String(), f)
	}
}

func TestFetchJournalTail(t *testing.T) {
	db := openStore(t, newStore(t, 50))
	var out bytes.Buffer
	n, last, err := FetchJournal(context.Background(), nil, serve(t, db), "", Query{Tail: 3, Format: FormatText}, &out)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, uint64(50), last)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	require.True(t, strings.HasPrefix(strings.TrimSpace(lines[0]), "48 "), lines[0])
}

func TestFetchJournalBadQuery(t *testing.T) {
	db := openStore(t, newStore(t, 1))
	q := Query{Tail: 5000}
	_, _, err := FetchJournal(context.Background(), nil, serve(t, db), "", q, io.Discard)
	require.ErrorIs(t, err, ErrAdmin)
	require.Contains(t, err.Error(), "HTTP 400")
}

func TestFetchBackupIsAStore(t *testing.T) {
	db := openStore(t, newStore(t, 20))
	addr := serve(t, db)
	dst := filepath.Join(t.TempDir(), "copy.db")
	n, err := SaveBackup(dst, BackupOptions{StorePath: db.Path()}, func(w io.Writer) (int64, error) {
		return FetchBackup(context.Background(), nil, addr, "", w)
	})
	require.NoError(t, err)
	require.Positive(t, n)
	res, err := Check(dst)
	require.NoError(t, err)
	require.Equal(t, uint64(20), res.JournalLen)
	require.Equal(t, n, res.Size)
}

// A body that ends without the gateway's confirmation is not accepted,
// however plausible it looks.
func TestFetchWithoutConfirmationIsIncomplete(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.Join(CSVColumns, ",")+"\n1,2,3\n")
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	_, _, err := FetchJournal(context.Background(), nil, addr, "", Query{}, io.Discard)
	require.ErrorIs(t, err, ErrIncomplete)

	srv404 := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv404.Close)
	_, err = FetchBackup(context.Background(), nil, strings.TrimPrefix(srv404.URL, "http://"), "", io.Discard)
	require.ErrorIs(t, err, ErrAdmin)
	require.Contains(t, err.Error(), "loopback")
}

// The gateway reports a failure it meets mid-stream in the trailer.
func TestFetchReportsServerFailure(t *testing.T) {
	db := openStore(t, newStore(t, 5))
	addr := serve(t, db)
	require.NoError(t, db.Close())
	_, _, err := FetchJournal(context.Background(), nil, addr, "", Query{Tail: 1}, io.Discard)
	require.ErrorIs(t, err, ErrAdmin, "refused before the body: 503")
	_, _, err = FetchJournal(context.Background(), nil, addr, "", Query{}, io.Discard)
	require.ErrorIs(t, err, ErrAdmin)
	_, err = FetchBackup(context.Background(), nil, addr, "", io.Discard)
	require.ErrorIs(t, err, ErrIncomplete)
}
