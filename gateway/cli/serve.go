package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/gateway/logging"
	"ecardgw/gateway/sdnotify"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway (SIGTERM/SIGINT stop it gracefully, SIGHUP reloads the configuration and keys)",
		Long: `Run the gateway in the foreground.

SIGTERM or SIGINT: finish in-flight requests and stop. SIGHUP: reload the
configuration and the key file (terminals and keys, limits, stand-in,
campus-code issuers, wallet master load keys, tokens, log level); a reload
that changes a setting that needs a restart is refused as a whole, and the
log names the settings.

Under systemd (Type=notify) it reports READY=1 once the listeners are up,
STOPPING=1 on shutdown, and
pings the watchdog (WatchdogSec=) while its store answers.`,
		Args: cobra.NoArgs,
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
			level := new(slog.LevelVar)
			log, err := logging.New(logging.Config{Format: cfg.Log.Format, Level: cfg.Log.Level, Output: cmd.ErrOrStderr(), LevelVar: level})
			if err != nil {
				return err
			}
			version, revision, goVersion := BuildInfo()
			log.Info("ecardgw starting", "version", version, "revision", revision, "go", goVersion, "config", path)
			for _, w := range cfg.Warnings {
				log.Warn("configuration: " + w)
			}
			d, err := daemon.New(cfg, keys, daemon.Options{ConfigPath: path, Version: version, Revision: revision, Logger: log, LogLevel: level})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := d.Start(); err != nil {
				return err
			}
			sd := sdnotify.FromEnv()
			notify := func(state string) {
				if err := sd.Send(state); err != nil {
					log.Warn("systemd notification failed", "state", strings.SplitN(state, "\n", 2)[0], "err", err)
				}
			}
			notify(fmt.Sprintf("READY=1\nSTATUS=serving POS on %s, admin on %s\nMAINPID=%d", d.POSAddr(), d.Admin.Addr(), os.Getpid()))
			go watchdog(ctx, d, sd, log)
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			for {
				select {
				case <-ctx.Done():
					notify("STOPPING=1")
					return d.Stop()
				case <-hup:
					if err := d.Reload(); err != nil {
						log.Error("reload failed; the running configuration stays", "err", err)
					}
				}
			}
		},
	}
}

// watchdog pings systemd's watchdog at half its timeout for as long as the
// store answers a read within that half: a gateway whose store or
// scheduler is wedged stops pinging and systemd restarts it.
func watchdog(ctx context.Context, d *daemon.Daemon, sd *sdnotify.Notifier, log *slog.Logger) {
	if !sd.Enabled() {
		return
	}
	timeout, err := sdnotify.WatchdogInterval()
	if err != nil {
		if !errors.Is(err, sdnotify.ErrNoWatchdog) {
			log.Warn("systemd watchdog not started", "err", err)
		}
		return
	}
	every := timeout / 2
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			probe, cancel := context.WithTimeout(ctx, every)
			err := d.Alive(probe)
			cancel()
			if err != nil {
				log.Error("not pinging the systemd watchdog: the store does not answer", "err", err)
				continue
			}
			if err := sd.Send("WATCHDOG=1"); err != nil {
				log.Warn("systemd watchdog ping failed", "err", err)
			}
		}
	}
}

// configPath is the configuration file, searched in this order: the
// --config flag (persistent on the root command), $ECARDGW_CONFIG,
// ./var/ecardgw.yaml (what `make run` and `ecardgw demo init` write), then
// /etc/ecardgw/ecardgw.yaml (the installed gateway's). When none exists
// it is ./var/ecardgw.yaml, which the error then names.
func configPath(cmd *cobra.Command) string {
	if f := cmd.Flag("config"); f != nil && f.Changed && f.Value.String() != "" {
		return f.Value.String()
	}
	if v := os.Getenv("ECARDGW_CONFIG"); v != "" {
		return v
	}
	if _, err := os.Stat(defaultConfigPath); err == nil {
		return defaultConfigPath
	}
	if _, err := os.Stat(systemConfigPath); err == nil {
		return systemConfigPath
	}
	return defaultConfigPath
}
