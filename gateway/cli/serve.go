package cli

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/logging"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway (SIGTERM/SIGINT stop it gracefully, SIGHUP reloads terminals and keys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := configPath(cmd)
			cfg, err := config.Load(path)
			if err != nil {
				return err
			}
			keys, err := config.LoadKeys(cfg.Keys.File)
			if err != nil {
				return err
			}
			log, err := logging.New(logging.Config{Format: cfg.Log.Format, Level: cfg.Log.Level, Output: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings {
				log.Warn("configuration: " + w)
			}
			_, revision, _ := BuildInfo()
			d, err := daemon.New(cfg, keys, daemon.Options{ConfigPath: path, Version: versionString(), Revision: revision, Logger: log})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for {
					select {
					case <-ctx.Done():
						return
					case <-hup:
						if err := d.Reload(); err != nil {
							log.Error("reload failed; the running configuration stays", "err", err)
						}
					}
				}
			}()
			return d.Run(ctx)
		},
	}
}

// configPath is the --config flag (persistent on the root command).
func configPath(cmd *cobra.Command) string {
	if f := cmd.Flag("config"); f != nil && f.Value.String() != "" {
		return f.Value.String()
	}
	if v := os.Getenv("ECARDGW_CONFIG"); v != "" {
		return v
	}
	return defaultConfigPath
}
