package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/gateway/inspect"
)

func newJournalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "Read the journal: the last records, or an export for reconciliation",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("journal needs a subcommand: tail or export")
		},
	}
	cmd.AddCommand(newJournalTailCmd(), newJournalExportCmd())
	return cmd
}

func newJournalTailCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print the last journal records (--follow: and new ones as they are journaled)",
		Long: `Print the last N journal records, oldest first, from the running gateway
(through its admin listener, with the key file's admin token) or, when it
is stopped, from the store file.
With --follow, keep printing new records until interrupted; that needs a
running gateway. --terminal, --account and --resp print only the records
of one terminal, one account or these response codes (--resp declined:
every code but 00); -n then counts the records that match.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, _ := cmd.Flags().GetInt("lines")
			follow, _ := cmd.Flags().GetBool("follow")
			every, _ := cmd.Flags().GetDuration("interval")
			f, err := formatFlag(cmd, "text")
			if err != nil {
				return err
			}
			if n < 1 || n > 1000 {
				return usagef("-n must be 1..1000")
			}
			if every <= 0 {
				return usagef("--interval must be positive")
			}
			flt, err := filterFlags(cmd)
			if err != nil {
				return err
			}
			t := resolveTarget(cmd)
			out := cmd.OutOrStdout()
			if !t.online() {
				if follow {
					return fmt.Errorf("%w at %s: --follow needs a running gateway (nothing writes the journal while it is stopped)", errNotRunning, t.tried)
				}
				db, err := t.offlineStore()
				if err != nil {
					return err
				}
				defer db.Close()
				recs, err := inspect.TailFiltered(db, n, flt)
				if err != nil {
					return err
				}
				w := inspect.NewWriter(out, f)
				for i := range recs {
					if err := w.Write(&recs[i]); err != nil {
						return err
					}
				}
				return w.Flush()
			}
			tok, err := t.adminToken()
			if err != nil {
				return err
			}
			client := &http.Client{}
			ctx := cmd.Context()
			_, last, err := inspect.FetchJournal(ctx, client, t.admin, tok, inspect.Query{Tail: n, Format: f, Range: inspect.Range{Filter: flt}}, out)
			if err != nil || !follow {
				return err
			}
			return followJournal(ctx, client, t.admin, tok, last, flt, f, every, out)
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().IntP("lines", "n", 20, "how many records")
	cmd.Flags().BoolP("follow", "f", false, "keep printing new records until interrupted")
	cmd.Flags().Duration("interval", time.Second, "how often --follow asks for new records")
	cmd.Flags().String("format", "text", "text, csv or json (JSON Lines)")
	addFilterFlags(cmd)
	return cmd
}

// followJournal polls for records after last until ctx ends. The journal
// is append-only with consecutive sequence numbers, so asking for
// last+1 onwards neither skips nor repeats a record. A CSV header is
// printed once, by the first answer.
func followJournal(ctx context.Context, client *http.Client, addr, tok string, last uint64, flt inspect.Filter, f inspect.Format, every time.Duration, out io.Writer) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		var buf headerSkipper
		buf.skip = f == inspect.FormatCSV
		buf.w = out
		q := inspect.Query{Range: inspect.Range{Since: inspect.Bound{Seq: last + 1}, Filter: flt}, Format: f}
		_, next, err := inspect.FetchJournal(ctx, client, addr, tok, q, &buf)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		last = max(last, next)
	}
}

// headerSkipper drops the first line (a repeated CSV header).
type headerSkipper struct {
	w    io.Writer
	skip bool
}

func (h *headerSkipper) Write(p []byte) (int, error) {
	n := len(p)
	if h.skip {
		i := 0
		for i < len(p) && p[i] != '\n' {
			i++
		}
		if i == len(p) {
			return n, nil // still inside the header line
		}
		h.skip = false
		p = p[i+1:]
	}
	if _, err := h.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

func newJournalExportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export --since SEQ|TIME",
		Short: "Export journal records as CSV or JSON Lines for reconciliation",
		Long: `Export the journal records from --since (inclusive) to --until
(exclusive), each a sequence number, an RFC 3339 time or a YYYY-MM-DD date
(UTC). --since 1 exports everything. Exports chain: --until X, then
--since X, covers every record once. The export is the journal as it was
when the export started.

CSV columns (stable; new ones are only ever added at the end):
  seq,time_utc,terminal,batch,stan,mti,kind,proc,account,card_masked,channel,
  amount_fen,resp,rrn,auth,balance_after_fen,orig,exception,standin,location,note
Card numbers are masked, amounts are integer fen, times are UTC RFC 3339.
--format json writes one JSON object per line with the same keys.

Reads through the running gateway's admin listener (sending the first of
the key file's admin_tokens), or the store file when the gateway is
stopped. --out writes FILE whole or not at all. --terminal, --account
and --resp export only the records of one terminal, one account or these
response codes (--resp declined: every code but 00).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var g inspect.Range
			sinceS, _ := cmd.Flags().GetString("since")
			untilS, _ := cmd.Flags().GetString("until")
			if sinceS == "" {
				return usagef("journal export needs --since (a sequence number, an RFC 3339 time or a date; 1 for everything)")
			}
			var err error
			if g.Since, err = inspect.ParseBound(sinceS); err != nil {
				return usagef("--since: %v", err)
			}
			if g.Until, err = inspect.ParseBound(untilS); err != nil {
				return usagef("--until: %v", err)
			}
			if g.Filter, err = filterFlags(cmd); err != nil {
				return err
			}
			f, err := formatFlag(cmd, "csv")
			if err != nil {
				return err
			}
			t := resolveTarget(cmd)
			export := func(w io.Writer) (int64, error) {
				if t.online() {
					tok, err := t.adminToken()
					if err != nil {
						return 0, err
					}
					n, _, err := inspect.FetchJournal(cmd.Context(), &http.Client{}, t.admin, tok, inspect.Query{Range: g, Format: f}, w)
					return int64(n), err
				}
				db, err := t.offlineStore()
				if err != nil {
					return 0, err
				}
				defer db.Close()
				rw := inspect.NewWriter(w, f)
				n, err := inspect.Export(db, g, rw)
				if err == nil {
					err = rw.Flush()
				}
				return int64(n), err
			}
			var n int64
			outPath, _ := cmd.Flags().GetString("out")
			if outPath == "" {
				n, err = export(cmd.OutOrStdout())
			} else {
				n, err = inspect.WriteAtomic(outPath, export)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d records (%s)\n", n, source(t))
			return nil
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().String("since", "", "first record: `SEQ|TIME` (inclusive)")
	cmd.Flags().String("until", "", "end: `SEQ|TIME` (exclusive; default: the end of the journal)")
	cmd.Flags().String("format", "csv", "csv or json (JSON Lines)")
	cmd.Flags().String("out", "", "write to `FILE` (default: standard output)")
	addFilterFlags(cmd)
	return cmd
}

func formatFlag(cmd *cobra.Command, def string) (inspect.Format, error) {
	s, _ := cmd.Flags().GetString("format")
	if s == "" {
		s = def
	}
	f, err := inspect.ParseFormat(s)
	if err != nil {
		return f, usagef("--format: %v", err)
	}
	return f, nil
}

// source says where a command read, for its summary line.
func source(t target) string {
	if t.online() {
		return "from the running gateway at " + t.admin
	}
	return "from " + t.storePath
}

func addFilterFlags(cmd *cobra.Command) {
	cmd.Flags().String("terminal", "", "only the records of terminal `ID`")
	cmd.Flags().String("account", "", "only the records of account `NO`")
	cmd.Flags().String("resp", "", "only these response `CODES` (comma-separated, e.g. 51,61), or \"declined\" for all but 00")
}

func filterFlags(cmd *cobra.Command) (inspect.Filter, error) {
	term, _ := cmd.Flags().GetString("terminal")
	acct, _ := cmd.Flags().GetString("account")
	resp, _ := cmd.Flags().GetString("resp")
	f, err := inspect.ParseFilter(term, acct, resp)
	if err != nil {
		return f, usagef("%v", err)
	}
	return f, nil
}
