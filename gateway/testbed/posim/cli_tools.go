package posim

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"ecardgw/gateway/testbed/baseline"
)

func newBaselineCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Run only the bare gnet length-prefixed echo server (the event-loop limit)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := CheckLoopback(listen); err != nil {
				return err
			}
			srv, err := baseline.Start(listen, true)
			if err != nil {
				return err
			}
			defer srv.Stop()
			fmt.Fprintf(cmd.OutOrStdout(), "posim baseline: echoing length-prefixed frames on %s (Ctrl-C stops)\n", srv.Addr())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "`HOST:PORT` to listen on (loopback only; port 0 picks one)")
	return cmd
}

func newEnvCmd() *cobra.Command {
	var spec EnvSpec
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Write a simulation gateway: configuration, fresh keys, accounts, issuer key, imported store",
		Long: `Write ecardgw.yaml, keys.yaml, accounts.csv, issuer.key and ecardgw.db into --dir for a
standalone gateway with --pos canteen POS, --settlement settlement POS and --accounts
accounts, then print the commands that serve it and drive it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, a := range []string{spec.POSAddr, spec.AdminAddr} {
				if err := CheckLoopback(a); err != nil {
					return err
				}
			}
			if spec.POS+spec.Settlement > MaxTerminals || spec.Accounts < 1 {
				return fmt.Errorf("%w: at most %d terminals and at least 1 account", ErrLimit, MaxTerminals)
			}
			if err := os.MkdirAll(spec.Dir, 0o700); err != nil {
				return err
			}
			env, err := WriteEnv(spec)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %s, %s, %s, %s and %s\n", env.Config, env.Keys, env.Accounts, env.IssuerKey, env.Store)
			fmt.Fprintf(w, "serve  ecardgw serve --config %s\n", env.Config)
			fmt.Fprintf(w, "drive  posim run --config %s --accounts %s --issuer-key %s --terminals %d --think 1s --duration 60s\n",
				env.Config, env.Accounts, env.IssuerKey, spec.POS)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&spec.Dir, "dir", "./var/sim", "`DIR` to write into")
	fl.IntVar(&spec.POS, "pos", 1000, "canteen POS terminals (T0000001...)")
	fl.IntVar(&spec.Settlement, "settlement", 30, "settlement POS terminals (S0000001...)")
	fl.IntVar(&spec.Accounts, "accounts", 1000, "accounts, each with a card")
	fl.StringVar(&spec.POSAddr, "pos-addr", "127.0.0.1:8583", "the gateway's POS `HOST:PORT` (loopback)")
	fl.StringVar(&spec.AdminAddr, "admin-addr", "127.0.0.1:9100", "the gateway's admin `HOST:PORT` (loopback)")
	fl.StringVar(&spec.PaymentsURL, "payments-url", "", "payments.url: the reference centre (ecardcentre serve) for WeChat/Alipay codes")
	return cmd
}
