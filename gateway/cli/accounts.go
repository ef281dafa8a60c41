package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"ecardgw/gateway/config"
	"ecardgw/store"
	"ecardgw/store/accountscsv"
)

func newAccountsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "accounts", Short: "Manage the standalone ledger's accounts"}
	cmd.AddCommand(&cobra.Command{
		Use:   "import ACCOUNTS.csv",
		Short: "Import accounts from CSV (header account,name,card_number,card_serial,balance_fen,status,staff_no)",
		Long: `Import accounts into the store named by the configuration.

The file must have the header
  account,name,card_number,card_serial,balance_fen,status,staff_no
Every row is checked first; if any row is bad, each bad row is reported
with its line number and nothing is imported. Import is idempotent by
account: a new account is created with its balance; an existing one has
its name, card, status and staff number updated and keeps its balance.
A large file is committed in chunks and made live in one last step: an
import that is interrupted leaves the accounts as they were.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath(cmd))
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			rows, err := accountscsv.Parse(f)
			if err != nil {
				return fmt.Errorf("%s: nothing imported: %w", args[0], err)
			}
			db, err := store.Open(cfg.Store.Path, store.Options{})
			if errors.Is(err, store.ErrLocked) {
				return fmt.Errorf("%s is in use by a running gateway: stop it first, or import through the service API", cfg.Store.Path)
			}
			if err != nil {
				return err
			}
			// The blacklist follows the lost status, as with the service
			// API's import: terminals refuse a card imported as lost from
			// their next blacklist download.
			res, err := db.Import(cmd.Context(), rows, store.ImportOptions{Blacklist: true})
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d rows, %d accounts created, %d updated, %d unchanged\n",
				args[0], len(rows), res.Created, res.Updated, len(rows)-res.Created-res.Updated)
			if res.BlacklistChanged {
				fmt.Fprintln(cmd.OutOrStdout(), "blacklist updated for the lost and found cards")
			}
			return nil
		},
	})
	return cmd
}
