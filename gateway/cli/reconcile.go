package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/config"
	"ecardgw/gateway/inspect"
	"ecardgw/store"
)

// errDifferences is the failure of a reconciliation that found any.
var errDifferences = errors.New("the gateway and the centre differ")

func newReconcileCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare the journal and balances with the card centre's (connected mode)",
		Long: `Compare the gateway's journal for a period and every account's balance with
the card centre's, and print each difference; "no differences" is the
expected outcome. Exit status 1 when there is any.

Every approved money record of the gateway in the period must be an op the
centre applied (authorized online or from the delivered record) for the
same account and amount, every money op of the centre in the period an
approved record of the gateway, and every account's balance (as it is now)
the same at both. Records still in the outbox are marked "not yet
delivered": wait for the outbox to drain (ecardgw status) and run again.

--since (inclusive) and --until (exclusive) take an RFC 3339 time or a date
(midnight UTC); the default is the last 24 hours. The running gateway is
read through a backup from its admin listener (the key file's
admin_tokens), a stopped one from its store file; the centre is called as
the gateway calls it (centre.url, centre.tls, upstream.centre_token).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now().UTC()
			since, until := now.Add(-24*time.Hour), now
			for _, f := range []struct {
				name string
				to   *time.Time
			}{{"since", &since}, {"until", &until}} {
				s, _ := cmd.Flags().GetString(f.name)
				if s == "" {
					continue
				}
				b, err := inspect.ParseBound(s)
				if err != nil || b.Seq != 0 {
					return usagef("--%s: %q is not an RFC 3339 time or a date", f.name, s)
				}
				*f.to = b.Time
			}
			if !since.Before(until) {
				return usagef("--since must be before --until")
			}
			slack, _ := cmd.Flags().GetDuration("slack")
			if slack <= 0 {
				return usagef("--slack must be positive")
			}
			cfg, err := config.Load(configPath(cmd))
			if err != nil {
				return err
			}
			if cfg.Mode != config.ModeConnected {
				return fmt.Errorf("reconcile compares with the card centre: the configuration is in %s mode, not connected", cfg.Mode)
			}
			keys, err := config.LoadKeys(cfg.Keys.File)
			if err != nil {
				return err
			}
			cl, err := centre.New(centre.OptionsFromConfig(cfg.Centre, keys.Upstream))
			if err != nil {
				return fmt.Errorf("centre: %w", err)
			}
			defer cl.Close()
			db, done, err := reconcileStore(cmd)
			if err != nil {
				return err
			}
			defer done()
			rep, err := centre.Reconcile(cmd.Context(), cl, db, centre.ReconcileOptions{From: since, To: until, Slack: slack})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, d := range rep.Differences {
				fmt.Fprintln(out, d.String())
			}
			fmt.Fprintf(out, "%s to %s: %d money records at the gateway, %d at the centre, %d accounts",
				rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), rep.Records, rep.Ops, rep.Accounts)
			if rep.Backlog > 0 {
				fmt.Fprintf(out, ", %d records not yet delivered", rep.Backlog)
			}
			if len(rep.Differences) == 0 {
				fmt.Fprintln(out, ": no differences")
				return nil
			}
			fmt.Fprintf(out, ": %d differences\n", len(rep.Differences))
			return fmt.Errorf("%w: %d differences", errDifferences, len(rep.Differences))
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().String("since", "", "start of the period, inclusive (`TIME` or date; default 24 hours ago)")
	cmd.Flags().String("until", "", "end of the period, exclusive (`TIME` or date; default now)")
	cmd.Flags().Duration("slack", 10*time.Minute, "how far past the period to look for the other side's match (clock skew)")
	return cmd
}

// reconcileStore opens what reconcile reads: a backup of the running
// gateway (one consistent point of journal and balances), else the store
// file. done closes it and removes the backup.
func reconcileStore(cmd *cobra.Command) (*store.DB, func(), error) {
	t := resolveTarget(cmd)
	if !t.online() {
		db, err := t.offlineStore()
		if err != nil {
			return nil, nil, err
		}
		return db, func() { _ = db.Close() }, nil
	}
	tok, err := t.adminToken()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "ecardgw-reconcile-")
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, "backup.db")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err == nil {
		_, err = inspect.FetchBackup(cmd.Context(), &http.Client{}, t.admin, tok, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	var db *store.DB
	if err == nil {
		db, err = store.Open(path, store.Options{ReadOnly: true})
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("reading the running gateway's backup: %w", err)
	}
	return db, func() { _ = db.Close(); _ = os.RemoveAll(dir) }, nil
}
