package refcentre

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/store/accountscsv"
)

// Command is the ecardcentre command line: "accounts import" and "serve".
// cmd/ecardcentre only runs it.
func Command() *cobra.Command {
	root := &cobra.Command{
		Use:           "ecardcentre",
		Short:         "The reference card centre for ecardgw's connected mode",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(importCmd(), serveCmd())
	return root
}

// Execute runs the command line and returns the exit code.
func Execute(args []string) int {
	cmd := Command()
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ecardcentre:", err)
		return 1
	}
	return 0
}

func importCmd() *cobra.Command {
	var dir string
	accounts := &cobra.Command{Use: "accounts", Short: "Manage the centre's accounts"}
	imp := &cobra.Command{
		Use:   "import --data DIR ACCOUNTS.csv",
		Short: "Import accounts (the gateway's CSV format) into the centre's ledger",
		Long: `Import accounts from the gateway's CSV format
  account,name,card_number,card_serial,balance_fen,status,staff_no
into the ledger in --data. All rows or none; an existing account keeps its
balance. The centre must not be serving from the same directory (use
POST /admin/accounts/import then).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			rows, err := accountscsv.Parse(f)
			if err != nil {
				return fmt.Errorf("%s: nothing imported: %w", args[0], err)
			}
			c, err := Open(dir)
			if err != nil {
				return err
			}
			created, updated, err := c.Import(rows)
			if cerr := c.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d rows, %d accounts created, %d updated\n", args[0], len(rows), created, updated)
			return nil
		},
	}
	imp.Flags().StringVar(&dir, "data", "", "data directory of the centre's ledger (required)")
	_ = imp.MarkFlagRequired("data")
	accounts.AddCommand(imp)
	return accounts
}

func serveCmd() *cobra.Command {
	var (
		dir, listen               string
		certFile, keyFile, caFile string
		payDelay                  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve --listen ADDR --data DIR",
		Short: "Serve the centre interface and the admin endpoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tc, err := serverTLS(certFile, keyFile, caFile)
			if err != nil {
				return err
			}
			c, err := OpenOptions(dir, Options{PayDelay: payDelay})
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := c.Listen(listen, tc)
			if err != nil {
				return err
			}
			// Scripts and tests read the bound address from this line.
			fmt.Fprintf(cmd.OutOrStdout(), "ecardcentre listening on %s\n", s.Addr())
			done := make(chan error, 1)
			go func() { done <- s.Serve() }()
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Shutdown(sctx); err != nil {
				return err
			}
			return <-done
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "data", "", "data directory of the centre's ledger (required)")
	f.StringVar(&listen, "listen", "127.0.0.1:8480", "address to listen on (the admin endpoints are unauthenticated: keep it on loopback or a private network)")
	f.StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	f.StringVar(&keyFile, "tls-key", "", "private key of --tls-cert (PEM)")
	f.StringVar(&caFile, "client-ca", "", "require client certificates signed by this CA (PEM)")
	f.DurationVar(&payDelay, "pay-delay", 2*time.Second, "how long a payment code ending in 9 takes to be paid")
	_ = cmd.MarkFlagRequired("data")
	return cmd
}

// ErrTLSFlags means the TLS flags do not fit together.
var ErrTLSFlags = errors.New("refcentre: --tls-cert and --tls-key go together, and --client-ca needs them")

func serverTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" && caFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, ErrTLSFlags
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrTLSFlags, caFile)
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return tc, nil
}
