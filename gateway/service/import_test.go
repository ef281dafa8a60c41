package service

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
	"ecardgw/store/accountscsv"
)

// accountsDir holds the project's accounts files (demo.csv, bad.csv).
var accountsDir = filepath.Join("..", "..", "testdata", "accounts")

func csvFile(rows ...string) []byte {
	return []byte(accountscsv.Header + "\n" + strings.Join(rows, "\n") + "\n")
}

func (f *fixture) importCSV(body []byte) resp {
	return f.call(http.MethodPost, "/v1/accounts/import", testToken, "text/csv; charset=utf-8", body)
}

func TestImport(t *testing.T) {
	f := newFixture(t)
	demo, err := os.ReadFile(filepath.Join(accountsDir, "demo.csv"))
	require.NoError(t, err)
	rows, err := accountscsv.Parse(strings.NewReader(string(demo)))
	require.NoError(t, err)
	require.NotEmpty(t, rows)

	existing := 0
	for _, row := range rows {
		for _, a := range demoAccounts() {
			if a.No == row.No {
				existing++
			}
		}
	}
	require.Equal(t, 1, existing, "demo.csv updates one account of the fixture")
	r := f.importCSV(demo)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	m := r.json(t)
	require.Equal(t, float64(len(rows)), m["rows"])
	require.Equal(t, float64(len(rows)-existing), m["created"])
	require.Equal(t, float64(existing), m["updated"])
	rec := f.lastRecord()
	require.Equal(t, store.KindImport, rec.Kind)
	require.Equal(t, "API", rec.Key.Terminal)
	require.Equal(t, rows[0].BalanceFen, f.account(rows[0].No).BalanceFen)
	require.Equal(t, int64(10000), f.account(1001).BalanceFen, "an update keeps the balance")
	require.Equal(t, []string{"+100000012349"}, f.blacklistEntries(), "the file's lost card is listed")

	r = f.importCSV(demo)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, float64(0), r.json(t)["created"])
	require.Equal(t, float64(0), r.json(t)["updated"])
}

func TestImportRefusesBadFilesWhole(t *testing.T) {
	f := newFixture(t)
	bad, err := os.ReadFile(filepath.Join(accountsDir, "bad.csv"))
	require.NoError(t, err)
	r := f.importCSV(bad)
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, CodeBadRequest, r.code(t))
	require.False(t, cardLike.Match(r.body), "the answer quotes a card number: %s", r.body)
	var lines []int
	for _, x := range r.json(t)["rows"].([]any) {
		row := x.(map[string]any)
		require.NotEmpty(t, row["reason"])
		lines = append(lines, int(row["line"].(float64)))
	}
	require.Subset(t, lines, []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
	require.NotContains(t, lines, 2, "line 2 is a good row")
	require.Empty(t, f.journal())
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		_, ok, err := tx.Account(20230001)
		require.False(t, ok, "nothing of a bad file is imported")
		return err
	}))

	r = f.call(http.MethodPost, "/v1/accounts/import", testToken, "application/json", csvFile())
	require.Equal(t, http.StatusUnsupportedMediaType, r.status)

	// A card held by an account outside the file: nothing is imported.
	r = f.importCSV(csvFile(
		"2001,New One,999999999999,00000000999999999999,0,active,N1",
		"2002,Thief,"+cardOK+",00000000"+cardOK+",0,active,N2"))
	require.Equal(t, http.StatusConflict, r.status, string(r.body))
	require.False(t, cardLike.Match(r.body))
	require.NoError(t, f.db.View(func(tx *store.Tx) error {
		_, ok, err := tx.Account(2001)
		require.False(t, ok)
		return err
	}))
	require.Empty(t, f.journal())

	g := newFixture(t, func(o *Options) { o.MaxImportBytes = 200 })
	r = g.importCSV(csvFile(strings.Repeat("x", 300)))
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
}

func TestImportKeepsTheBlacklistInStep(t *testing.T) {
	f := newFixture(t)
	// 1004 becomes lost (its card is listed), 1002 (lost in the store, never
	// listed) becomes active again (its card comes off).
	r := f.importCSV(csvFile(
		"1004,赵六,"+cardPoor+",00000000"+cardPoor+",0,lost,2026004",
		"1002,Li Si,"+cardLost+",00000000"+cardLost+",0,active,2026002"))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, float64(2), r.json(t)["blacklist_version"])
	require.Equal(t, []string{"-" + cardLost, "+" + cardPoor}, f.blacklistEntries())
	require.Equal(t, []uint32{2}, f.blacklistCalls())
	require.Equal(t, int64(100), f.account(1004).BalanceFen, "an import never touches a balance")

	// The same file again changes nothing, the list included.
	r = f.importCSV(csvFile(
		"1004,赵六,"+cardPoor+",00000000"+cardPoor+",0,lost,2026004",
		"1002,Li Si,"+cardLost+",00000000"+cardLost+",0,active,2026002"))
	require.Equal(t, http.StatusOK, r.status)
	require.Len(t, f.blacklistEntries(), 2)
	require.Len(t, f.blacklistCalls(), 1)

	// The lost account gets a new card and is active again: the lost card
	// stays listed, the new one is not.
	r = f.importCSV(csvFile("1004,赵六,523456789012,00000000523456789012,0,active,2026004"))
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"-" + cardLost, "+" + cardPoor}, f.blacklistEntries())
	require.Len(t, f.blacklistCalls(), 1)

	// Lost with another card: the new card goes on the list.
	r = f.importCSV(csvFile("1001,Zhang San,623456789012,00000000623456789012,0,lost,2026001"))
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, []string{"-" + cardLost, "+" + cardPoor, "+623456789012"}, f.blacklistEntries())
}
