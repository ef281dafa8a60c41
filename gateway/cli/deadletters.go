package cli

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/inspect"
	"ecardgw/store"
)

func newDeadLettersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deadletters",
		Short: "List, show and requeue the records a centre or stream refused for good",
		Long: `A record the receiver (the card centre, or the JetStream stream) refuses
for good is moved aside as a dead letter with the receiver's reason, and
the records after it go on. Once the cause is fixed on the receiving
side, requeue puts it back into the outbox and the forwarder delivers it
(receivers drop duplicates by the idempotency key).

Through the running gateway's admin listener (with the key file's admin
token), or the store file when the gateway is stopped.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("deadletters needs a subcommand: list, show or requeue")
		},
	}
	cmd.AddCommand(newDeadLettersListCmd(), newDeadLettersShowCmd(), newDeadLettersRequeueCmd())
	return cmd
}

// readDeadLetters reads dead letters (seq 0: all) from the running
// gateway or the store file.
func readDeadLetters(cmd *cobra.Command, seq uint64) ([]inspect.DeadLetter, error) {
	t := resolveTarget(cmd)
	if t.online() {
		tok, err := t.adminToken()
		if err != nil {
			return nil, err
		}
		return inspect.FetchDeadLetters(cmd.Context(), &http.Client{Timeout: adminTimeout}, t.admin, tok, seq)
	}
	db, err := t.offlineStore()
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return inspect.DeadLetters(db, seq)
}

func newDeadLettersListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the dead letters: sequence number, sink, when, the receiver's reason",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := readDeadLetters(cmd, 0)
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(cmd.OutOrStdout(), list)
			}
			if len(list) == 0 {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "no dead letters")
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tSINK\tAT\tTERMINAL\tKIND\tAMOUNT_FEN\tREASON")
			for _, d := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", d.Seq, d.Sink, d.At.UTC().Format(time.RFC3339),
					d.Record.Terminal, d.Record.Kind, d.Record.Amount, d.Reason)
			}
			return tw.Flush()
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func parseSeq(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, usagef("%q is not a journal sequence number", s)
	}
	return n, nil
}

func newDeadLettersShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show SEQ",
		Short: "Show one dead letter with its journal record",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := parseSeq(args[0])
			if err != nil {
				return err
			}
			list, err := readDeadLetters(cmd, seq)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				return fmt.Errorf("%w: %d", inspect.ErrNoDeadLetter, seq)
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(cmd.OutOrStdout(), list)
			}
			for _, d := range list {
				if err := printDeadLetter(cmd.OutOrStdout(), d); err != nil {
					return err
				}
			}
			return nil
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func printDeadLetter(w io.Writer, d inspect.DeadLetter) error {
	r := d.Record
	acct := "-"
	if r.Account != nil {
		acct = strconv.FormatUint(*r.Account, 10)
	}
	_, err := fmt.Fprintf(w, `seq        %d
sink       %s
refused    %s
reason     %s
journaled  %s
terminal   %s batch %d stan %d mti %s
kind       %s (proc %s)
account    %s card %s channel %s
amount     %d fen, resp %s, rrn %s
`, d.Seq, d.Sink, d.At.UTC().Format(time.RFC3339), d.Reason, r.Time, r.Terminal, r.Batch, r.STAN, r.MTI,
		r.Kind, r.Proc, acct, dash(r.CardMasked), dash(r.Channel), r.Amount, dash(r.Resp), dash(r.RRN))
	return err
}

func newDeadLettersRequeueCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "requeue SEQ | --all",
		Short: "Put dead letters back into the outbox for delivery, once the receiver is fixed",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			all, _ := cmd.Flags().GetBool("all")
			var seq uint64
			switch {
			case all && len(args) == 0:
			case !all && len(args) == 1:
				var err error
				if seq, err = parseSeq(args[0]); err != nil {
					return err
				}
			default:
				return usagef("requeue needs a sequence number or --all")
			}
			t := resolveTarget(cmd)
			var done []uint64
			if t.online() {
				tok, err := t.adminToken()
				if err != nil {
					return err
				}
				if done, err = inspect.PostRequeue(cmd.Context(), &http.Client{Timeout: adminTimeout}, t.admin, tok, seq); err != nil {
					return err
				}
			} else {
				if t.cfgErr != nil {
					return t.cfgErr
				}
				cfg, err := config.Load(configPath(cmd))
				if err != nil {
					return err
				}
				db, err := store.Open(t.storePath, store.Options{})
				if err != nil {
					return err
				}
				done, err = inspect.Requeue(cmd.Context(), db, daemon.PrimarySink(cfg), seq)
				if cerr := db.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "requeued %d dead letters %v (%s)\n", len(done), done, source(t))
			if !t.online() && len(done) > 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "the gateway delivers them when it starts")
			}
			return nil
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().Bool("all", false, "requeue every dead letter of the first sink")
	return cmd
}
