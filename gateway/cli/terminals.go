package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/gateway/admin"
	"ecardgw/gateway/config"
)

func newTerminalsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "terminals",
		Short: "List and show terminals; add, disable and enable them",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("terminals needs a subcommand: list, show, add, disable or enable")
		},
	}
	cmd.AddCommand(newTerminalsListCmd(), newTerminalsShowCmd(), newTerminalsAddCmd(),
		newTerminalsSetCmd("disable", true), newTerminalsSetCmd("enable", false))
	return cmd
}

// fetchTerminals asks the running gateway (with the admin token) for its
// terminals, or one.
func fetchTerminals(cmd *cobra.Command, id string) ([]admin.Terminal, target, error) {
	t := resolveTarget(cmd)
	if !t.online() {
		return nil, t, nil
	}
	tok, err := t.adminToken()
	if err != nil {
		return nil, t, err
	}
	list, err := admin.FetchTerminals(cmd.Context(), &http.Client{Timeout: adminTimeout}, t.admin, tok, id)
	return list, t, err
}

func newTerminalsListCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the configured terminals: signed in, batch, last seen, address, rate, last code",
		Long: `List every configured terminal. From the running gateway (through its
admin listener, with the key file's admin token): whether it is signed
in, its batch, when it was last seen and from which address, its
requests per minute and its last response code. When the gateway is
stopped, the configuration only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, t, err := fetchTerminals(cmd, "")
			if err != nil {
				return err
			}
			asJSON, _ := cmd.Flags().GetBool("json")
			if !t.online() {
				if t.cfgErr != nil {
					return t.cfgErr
				}
				list, err = configuredTerminals(configPath(cmd), "")
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "no gateway answers at %s: showing the configuration only\n", t.tried)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), list)
			}
			return printTerminalList(cmd.OutOrStdout(), list, t.online())
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func newTerminalsShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one terminal: session, address, rate and its last response codes with reasons",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, t, err := fetchTerminals(cmd, args[0])
			if err != nil {
				return err
			}
			if !t.online() {
				if t.cfgErr != nil {
					return t.cfgErr
				}
				if list, err = configuredTerminals(configPath(cmd), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "no gateway answers at %s: showing the configuration only\n", t.tried)
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printJSON(cmd.OutOrStdout(), list[0])
			}
			return printTerminal(cmd.OutOrStdout(), list[0], t.online())
		},
	}
	addAdminFlag(cmd)
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

// configuredTerminals lists the configuration's terminals (all, or id).
func configuredTerminals(cfgPath, id string) ([]admin.Terminal, error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	var out []admin.Terminal
	for _, c := range cfg.Terminals {
		if id == "" || c.ID == id {
			out = append(out, admin.Terminal{ID: c.ID, Merchant: c.Merchant, Type: string(c.Type), Location: c.Location, Disabled: c.Disabled})
		}
	}
	if id != "" && len(out) == 0 {
		return nil, fmt.Errorf("%w: %s is not in %s", config.ErrNoTerminal, id, cfgPath)
	}
	return out, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// state is a terminal's one-word state.
func state(t admin.Terminal, online bool) string {
	switch {
	case t.Disabled:
		return "disabled"
	case !online:
		return "-"
	case t.SignedIn && !t.BatchOpen:
		return "batch-closed"
	case t.SignedIn:
		return "signed-in"
	}
	return "signed-out"
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printTerminalList(w io.Writer, list []admin.Terminal, online bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMERCHANT\tTYPE\tSTATE\tBATCH\tLAST SEEN\tREMOTE\tREQ/MIN\tLAST RC")
	for _, t := range list {
		last := "-"
		if len(t.LastCodes) > 0 {
			last = t.LastCodes[0].RC
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%.1f\t%s\n", t.ID, t.Merchant, t.Type, state(t, online), t.Batch,
			when(t.LastSeen), dash(t.Remote), t.RequestsPerMinute, last)
	}
	return tw.Flush()
}

func printTerminal(w io.Writer, t admin.Terminal, online bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "terminal      %s\nmerchant      %s\ntype          %s\nlocation      %s\nstate         %s\n",
		t.ID, t.Merchant, t.Type, dash(t.Location), state(t, online))
	if online {
		fmt.Fprintf(&b, "signed in at  %s\nkeys expire   %s\nbatch         %d (open: %t)\nlast seen     %s\nremote        %s\n"+
			"requests      %d since start, %.1f a minute, %d declined\n",
			when(t.SignedInAt), when(t.KeysExpire), t.Batch, t.BatchOpen, when(t.LastSeen), dash(t.Remote),
			t.Requests, t.RequestsPerMinute, t.Declines)
		if len(t.LastCodes) > 0 {
			b.WriteString("last response codes (newest first):\n")
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range t.LastCodes {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.At.UTC().Format(time.RFC3339), c.MTI, c.RC, dash(c.Remote), c.Note)
	}
	return tw.Flush()
}

func newTerminalsAddCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add ID --merchant MERCHANT --type pos|settlement|kiosk",
		Short: "Add a terminal with a new master key; prints the key's check value",
		Long: `Add a terminal to the configuration file and a freshly generated
master key (TMK) for it to the key file, keeping both files' comments,
modes and owners. Prints the key's check value: the POS vendor's key
loading tool shows the same value once the key (from the key file,
terminals.ID) is loaded into the terminal. Run it as the key file's
owner or root. The running gateway takes the terminal on reload
(systemctl reload ecardgw).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			merchant, _ := cmd.Flags().GetString("merchant")
			typ, _ := cmd.Flags().GetString("type")
			loc, _ := cmd.Flags().GetString("location")
			makKind, _ := cmd.Flags().GetString("mak")
			if merchant == "" || typ == "" {
				return usagef("terminals add needs --merchant and --type")
			}
			kcv, err := config.AddTerminal(configPath(cmd), config.Terminal{ID: args[0], Merchant: merchant,
				Type: config.TerminalType(typ), Location: loc, MAK: config.MAKKind(makKind)}, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added terminal %s; master key check value %X\n", args[0], kcv)
			fmt.Fprintln(cmd.ErrOrStderr(), "reload the gateway to accept it: systemctl reload ecardgw")
			return nil
		},
	}
	cmd.Flags().String("merchant", "", "merchant `ID` (15 characters, field 42)")
	cmd.Flags().String("type", "", "pos, settlement or kiosk")
	cmd.Flags().String("location", "", "where it stands (journal records carry it)")
	cmd.Flags().String("mak", "", "des (default) or 3des")
	return cmd
}

func newTerminalsSetCmd(verb string, disabled bool) *cobra.Command {
	short := "Disable a terminal: everything it sends is answered 03 (its key stays)"
	if !disabled {
		short = "Enable a disabled terminal again"
	}
	return &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			changed, err := config.SetTerminalDisabled(configPath(cmd), args[0], disabled)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(cmd.OutOrStdout(), "terminal %s is %sd already\n", args[0], verb)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "terminal %s %sd\n", args[0], verb)
			fmt.Fprintln(cmd.ErrOrStderr(), "reload the gateway to apply it: systemctl reload ecardgw")
			return nil
		},
	}
}
