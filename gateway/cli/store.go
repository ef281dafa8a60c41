package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/inspect"
	"ecardgw/store"
)

func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Back up, restore and check the store",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("store needs a subcommand: backup, restore or check")
		},
	}
	cmd.AddCommand(newStoreBackupCmd(), newStoreRestoreCmd(), newStoreCheckCmd(), newStorePruneCmd())
	return cmd
}

func newStoreBackupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the store, while the gateway runs or not",
		Long: `Write a consistent copy of the store to FILE (mode 0600). While the
gateway runs, the copy is taken by the gateway itself in one read
transaction (terminals keep being served) and streamed through its
loopback admin listener, which needs the first of the key file's
admin_tokens (so run it as root or the gateway's user); when it is
stopped, the store file is read directly. The copy is written to FILE.tmp, fsynced, opened with the full
consistency check, and only then renamed to FILE.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			force, _ := cmd.Flags().GetBool("force")
			t := resolveTarget(cmd)
			n, err := inspect.SaveBackup(args[0], inspect.BackupOptions{StorePath: t.storePath, Force: force},
				func(w io.Writer) (int64, error) {
					if t.online() {
						tok, err := t.adminToken()
						if err != nil {
							return 0, err
						}
						return inspect.FetchBackup(cmd.Context(), &http.Client{}, t.admin, tok, w)
					}
					db, err := t.offlineStore()
					if err != nil {
						return 0, err
					}
					defer db.Close()
					return db.Backup(w)
				})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backup %s: %d bytes, verified (%s)\n", args[0], n, source(t))
			return nil
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().Bool("force", false, "replace FILE if it exists")
	return cmd
}

func newStoreRestoreCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the store with a backup (the gateway must be stopped)",
		Long: `Replace the store named by the configuration with a copy of the backup
FILE. Refused while a gateway holds the store, and for a FILE that does not
open or was written by a newer gateway. The store it replaces is kept
beside it as <store>.before-restore-<UTC time>; FILE itself is not changed.
Run it as the gateway's user, or as root (the restored file then gets the
old store's owner).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(configPath(cmd))
			if err != nil {
				return err
			}
			kept, err := inspect.Restore(cfg.Store.Path, args[0], time.Now())
			if errors.Is(err, store.ErrLocked) {
				return fmt.Errorf("%w (systemctl stop ecardgw)", err)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "restored %s from %s\n", cfg.Store.Path, args[0])
			if kept != "" {
				fmt.Fprintf(out, "the previous store is kept as %s\n", kept)
			}
			return nil
		},
	}
}

func newStoreCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check [FILE]",
		Short: "Check the store file or a backup (a running gateway's store: stop it first)",
		Long: `Open FILE (default: the configuration's store) read-only with bbolt's
full consistency check (every page is read: about a second per GB) and
print its schema version, journal length and outbox. A running gateway
holds its store: stop it first, or check a backup of it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var path, forwarded string
			if len(args) == 1 {
				path = args[0]
			} else {
				cfg, err := config.Load(configPath(cmd))
				if err != nil {
					return err
				}
				path = cfg.Store.Path
				if daemon.PrimarySink(cfg) == "" {
					forwarded = " (not forwarded: no centre or stream is configured, nothing is added to it)"
				}
			}
			res, err := inspect.Check(path)
			if errors.Is(err, store.ErrLocked) {
				return fmt.Errorf("%w: a running gateway holds it (systemctl stop ecardgw, or check a backup)", err)
			}
			if err != nil {
				return err
			}
			oldest := "-"
			if !res.OutboxOldest.IsZero() {
				oldest = res.OutboxOldest.UTC().Format(time.RFC3339)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), `store           %s: ok
size            %d bytes
schema version  %d (this gateway writes %d)
journal length  %d records
outbox          %d records, oldest journaled %s%s
`, res.Path, res.Size, res.Schema, store.SchemaVersion, res.JournalLen, res.Outbox, oldest, forwarded)
			return err
		},
	}
}

func newStorePruneCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "prune",
		Short: "Archive and prune what retention.* says is old, now (a running gateway does it every retention.interval)",
		Long: `Export the journal records older than retention.journal and the outbox
entries older than retention.outbox to CSV files in retention.archive_dir
(the journal export's columns, each file written whole and fsynced),
then remove exactly the records those files hold. Records still waiting
in the outbox or among the dead letters stay in the journal.

A running gateway does this itself every retention.interval and holds
the store: this command is for a stopped gateway.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath(cmd))
			if err != nil {
				return err
			}
			r := cfg.Retention
			if !r.Enabled() {
				return fmt.Errorf("nothing to prune: retention.journal and retention.outbox are not set (0 keeps everything)")
			}
			db, err := store.Open(cfg.Store.Path, store.Options{})
			if errors.Is(err, store.ErrLocked) {
				return fmt.Errorf("%w: a running gateway holds it, and prunes every retention.interval itself", err)
			}
			if err != nil {
				return err
			}
			p, err := inspect.Prune(cmd.Context(), db, daemon.RetentionPolicy(r, daemon.RetentionKeepFrom(cfg)), time.Now().UTC())
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "archived and pruned %d journal records and %d outbox entries\n", p.Journal, p.Outbox)
			if r.Idempotency > 0 {
				fmt.Fprintf(out, "pruned %d idempotency records\n", p.Idem)
				fmt.Fprintf(out, "pruned %d service API answers\n", p.Outcomes)
			}
			for _, f := range p.Files {
				fmt.Fprintf(out, "archive %s\n", f)
			}
			return err
		},
	}
}
