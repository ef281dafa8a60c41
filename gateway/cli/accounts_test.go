package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/store"
)

// TestAccountsImportBlacklistsLostCards: the CLI import keeps the
// blacklist in step with the lost status, as the service API's import
// does: a card imported as lost is refused at every terminal from the
// next blacklist download, and one imported active again comes off.
func TestAccountsImportBlacklistsLostCards(t *testing.T) {
	cfg, dbPath := writeOpsConfig(t)
	csv := filepath.Join(t.TempDir(), "accounts.csv")
	write := func(status string) {
		require.NoError(t, os.WriteFile(csv, []byte("account,name,card_number,card_serial,balance_fen,status,staff_no\n"+
			"1,Student 1,100000000001,00000000100000000001,1000,active,S1\n"+
			"2,Student 2,100000000002,00000000100000000002,1000,"+status+",S2\n"), 0o600))
	}
	listed := func() map[string]bool {
		db, err := store.Open(dbPath, store.Options{})
		require.NoError(t, err)
		defer db.Close()
		cards := map[string]bool{}
		require.NoError(t, db.View(func(tx *store.Tx) error {
			_, err := tx.BlacklistSince(0, 1000, func(_ uint32, card string, add bool) error {
				cards[card] = add
				return nil
			})
			return err
		}))
		return cards
	}

	write("lost")
	code, out, errOut := runCLI(t, "accounts", "import", "--config", cfg, csv)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "2 accounts created")
	require.Equal(t, map[string]bool{"100000000002": true}, listed(), "the lost card is on the blacklist")

	write("active")
	code, _, errOut = runCLI(t, "accounts", "import", "--config", cfg, csv)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, map[string]bool{"100000000002": false}, listed(), "found again: off the blacklist")
}
