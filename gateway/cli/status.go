package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/gateway/admin"
	"ecardgw/gateway/config"
	"ecardgw/store"
)

// adminTimeout bounds one request for status; journal exports and
// backups are bounded by the gateway instead (its write-stall deadline
// and admin.transfer_timeout).
const adminTimeout = 5 * time.Second

// errNotRunning means no gateway answers on the admin address.
var errNotRunning = errors.New("no gateway answers")

// target is where an inspection command reads: a running gateway's
// admin listener (the only way in while it runs: bbolt's lock keeps other
// processes out of the store), else the store file itself.
type target struct {
	admin     string // host:port of a gateway that answered; "" when none
	tried     string // the admin address that was tried
	storePath string // "" when the configuration could not be read
	keysPath  string // the key file, for the admin token; "" likewise
	cfgErr    error
}

// online reports whether a gateway answered.
func (t target) online() bool { return t.admin != "" }

// resolveTarget decides between the running gateway and the store file.
// --admin, when given, overrides the configuration's listen.admin; the
// configuration is needed only to find the store when no gateway answers.
func resolveTarget(cmd *cobra.Command) target {
	var t target
	cfg, err := config.Load(configPath(cmd))
	if err != nil {
		t.cfgErr = err
	} else {
		t.tried, t.storePath, t.keysPath = cfg.Listen.Admin, cfg.Store.Path, cfg.Keys.File
	}
	if a, _ := cmd.Flags().GetString("admin"); a != "" {
		t.tried = a
	}
	if t.tried != "" && reachable(t.tried) {
		t.admin = t.tried
	}
	return t
}

// adminToken is the token the commands that read the store through the
// running gateway (journal, backup) send: the first of the key file's
// admin_tokens, the file the gateway itself reads. Status needs none.
func (t target) adminToken() (string, error) {
	if t.cfgErr != nil {
		return "", fmt.Errorf("the admin token is in the key file, and the configuration that names it cannot be read: %w", t.cfgErr)
	}
	keys, err := config.LoadKeys(t.keysPath)
	if err != nil {
		if unreadable(t.keysPath) {
			return "", fmt.Errorf("reading the admin token: %w (only root and the gateway's user may read the key file: run the command as one of them)", err)
		}
		return "", fmt.Errorf("reading the admin token: %w", err)
	}
	if len(keys.AdminTokens) == 0 {
		return "", fmt.Errorf("the key file %s has no admin_tokens: the running gateway serves the journal and backups "+
			"only with one; add a token to admin_tokens and reload the gateway (systemctl reload ecardgw)", t.keysPath)
	}
	return string(keys.AdminTokens[0]), nil
}

// unreadable reports whether this user may not open path.
func unreadable(path string) bool {
	f, err := os.Open(path)
	if err == nil {
		_ = f.Close()
	}
	return errors.Is(err, fs.ErrPermission)
}

// reachable reports whether something accepts TCP connections at addr.
func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// offlineStore opens the store file read-only when no gateway answered,
// with an explanation when a gateway holds it all the same (its admin
// listener is elsewhere or down).
func (t target) offlineStore() (*store.DB, error) {
	if t.cfgErr != nil {
		return nil, fmt.Errorf("%w at %s, and the configuration cannot be read to find the store: %w", errNotRunning, t.tried, t.cfgErr)
	}
	db, err := store.Open(t.storePath, store.Options{ReadOnly: true})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: a gateway holds %s but its admin listener does not answer at %s (use --admin)", err, t.storePath, t.tried)
	}
	return db, err
}

func addAdminFlag(cmd *cobra.Command) {
	cmd.Flags().String("admin", "", "admin `ADDR` (host:port) of the running gateway (default: the configuration's listen.admin)")
}

func newStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a running gateway's connections, sessions, outbox and centre state",
		Long: `Ask the running gateway's admin listener (/status) for its state:
connections, signed-in terminals, the forwarder's outbox, the centre
state, stand-in exposure, blacklist version, version and uptime.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t := resolveTarget(cmd)
			if !t.online() {
				if t.tried == "" {
					return t.cfgErr
				}
				return fmt.Errorf("%w at %s: is it running? (systemctl status ecardgw)", errNotRunning, t.tried)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), adminTimeout)
			defer cancel()
			st, err := admin.FetchStatus(ctx, &http.Client{Timeout: adminTimeout}, t.admin)
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return printStatus(cmd.OutOrStdout(), st)
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().Bool("json", false, "print the status as JSON")
	return cmd
}

func printStatus(w io.Writer, st admin.Status) error {
	up := st.Now.Sub(st.StartedAt).Round(time.Second)
	oldest := time.Duration(st.Outbox.OldestAgeSeconds * float64(time.Second)).Round(time.Second)
	outbox := fmt.Sprintf("%d records, oldest %s", st.Outbox.Records, oldest)
	if !st.Outbox.Forwarded {
		outbox = "not forwarded (no centre or stream configured; the journal keeps every record)"
		if st.Outbox.Records > 0 {
			outbox += fmt.Sprintf("; %d records left in it from when a sink was configured, oldest %s (retention.outbox archives and prunes them)",
				st.Outbox.Records, oldest)
		}
	}
	_, err := fmt.Fprintf(w, `ecardgw %s (%s mode)
uptime             %s (since %s)
connections        %d
sessions           %d
outbox             %s
centre             %s
stand-in exposure  %d fen
blacklist version  %d
`, st.Version, st.Mode, up, st.StartedAt.UTC().Format(time.RFC3339), st.Connections, st.Sessions,
		outbox, st.Centre, st.StandInExposure, st.BlacklistVersion)
	if err != nil {
		return err
	}
	return printPayments(w, st)
}

// printPayments adds the centre breaker, the pending payments and the
// channel calls owed.
func printPayments(w io.Writer, st admin.Status) error {
	if st.CentreBreaker != "" {
		if _, err := fmt.Fprintf(w, "centre breaker     %s\n", st.CentreBreaker); err != nil {
			return err
		}
	}
	p := st.Payments
	oldest := time.Duration(p.RetryOldestAgeSeconds * float64(time.Second)).Round(time.Second)
	if _, err := fmt.Fprintf(w, "payments pending   %d\npayment retries    %d owed, oldest %s\n", p.Pending, p.RetryQueue, oldest); err != nil {
		return err
	}
	for _, j := range p.RetryJobs {
		line := fmt.Sprintf("  %s %s %d fen: %s; %d attempts, next %s", j.Op, j.Trade, j.Amount, j.Reason,
			j.Attempts, j.NextAt.UTC().Format(time.RFC3339))
		if j.LastError != "" {
			line += "; last error: " + j.LastError
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return nil
}
