package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration before a reload, show the effective configuration",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("config needs a subcommand: check or show")
		},
	}
	cmd.AddCommand(newConfigCheckCmd(), newConfigShowCmd())
	return cmd
}

func newConfigCheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and key file and compare them with the running gateway",
		Long: `Validate the configuration file (with ECARDGW_* environment overrides)
and its key file as the gateway would at start or reload: exit 1 with every
problem named when either would be refused.

When a gateway answers on the admin listener (listen.admin, or --admin),
list what the files would change in it, each marked (reload) or
(restart), and say whether a reload (systemctl reload ecardgw) would be
applied or refused. Keys and tokens are compared by fingerprint, never
shown. Comparing needs the first of the key file's admin_tokens, so run it
as root or as the gateway's user.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := configPath(cmd)
			cfg, keys, err := loadChecked(path)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "configuration %s: ok\n", path)
			fmt.Fprintf(out, "key file %s: ok (%d terminal keys)\n", cfg.Keys.File, len(keys.Terminals))
			for _, w := range cfg.Warnings {
				fmt.Fprintf(out, "warning: %s\n", w)
			}
			addr := cfg.Listen.Admin
			if a, _ := cmd.Flags().GetString("admin"); a != "" {
				addr = a
			}
			if !reachable(addr) {
				fmt.Fprintf(out, "no gateway answers at %s: nothing to compare\n", addr)
				return nil
			}
			// The files are valid whatever happens now: a comparison that
			// cannot be made is reported, and the exit code stays 0.
			if len(keys.AdminTokens) == 0 {
				fmt.Fprintf(out, "not compared with the gateway at %s: that needs an admin token, and the key file %s has no admin_tokens\n", addr, cfg.Keys.File)
				return nil
			}
			running, err := fetchRunningConfig(cmd.Context(), addr, string(keys.AdminTokens[0]))
			if err != nil {
				fmt.Fprintf(out, "not compared with the gateway at %s: %v\n", addr, err)
				return nil
			}
			// Compare like with like: the file as the gateway would load
			// it on reload, with its environment overrides, not this
			// shell's.
			if differentEnv(running.Env) {
				names := applyEnv(running.Env)
				if cfg, keys, err = loadChecked(path); err != nil {
					return fmt.Errorf("with the running gateway's environment (%s): %w", strings.Join(names, ", "), err)
				}
				fmt.Fprintf(out, "compared with the running gateway's environment overrides: %s\n", strings.Join(names, ", "))
			}
			printDiff(out, addr, config.Diff(running.Values, config.Flatten(cfg, keys)))
			return nil
		},
	}
	addAdminFlag(cmd)
	return cmd
}

// differentEnv reports whether the gateway's ECARDGW_* overrides differ
// from this process's.
func differentEnv(running map[string]string) bool {
	here := config.EnvOverrides()
	if len(here) != len(running) {
		return true
	}
	for k, v := range running {
		if here[k] != v {
			return true
		}
	}
	return false
}

// applyEnv replaces this process's ECARDGW_* overrides with env and
// returns their names, sorted.
func applyEnv(env map[string]string) []string {
	for k := range config.EnvOverrides() {
		_ = os.Unsetenv(k)
	}
	names := make([]string, 0, len(env))
	for k, v := range env {
		_ = os.Setenv(k, v)
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) == 0 {
		names = append(names, "none")
	}
	return names
}

// loadChecked loads the configuration and key file and checks that every
// terminal has its key, as serve and a reload do.
func loadChecked(path string) (*config.Config, *config.Keys, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	keys, err := config.LoadKeys(cfg.Keys.File)
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s: %w", cfg.Keys.File, err)
	}
	if err := cfg.CheckKeys(keys); err != nil {
		return nil, nil, err
	}
	// The upstream TLS files are read as the gateway reads them at start:
	// a CA file without a certificate or a key that does not match its
	// certificate stops it there.
	for name, t := range map[string]config.TLS{"centre.tls": cfg.Centre.TLS, "forward.nats.tls": cfg.Forward.NATS.TLS} {
		if _, err := t.ClientConfig(); err != nil {
			return nil, nil, fmt.Errorf("configuration %s: %s: %w", path, name, err)
		}
	}
	return cfg, keys, nil
}

func fetchRunningConfig(ctx context.Context, addr, token string) (*daemon.RunningConfig, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/config", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		if res.StatusCode == http.StatusNotFound {
			return nil, errors.New("it does not serve its configuration (an older version, or its admin listener is not on loopback)")
		}
		return nil, fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(msg)))
	}
	var rc daemon.RunningConfig
	if err := json.NewDecoder(io.LimitReader(res.Body, 4<<20)).Decode(&rc); err != nil {
		return nil, fmt.Errorf("reading its configuration: %w", err)
	}
	return &rc, nil
}

func printDiff(out io.Writer, addr string, changes []config.Change) {
	if len(changes) == 0 {
		fmt.Fprintf(out, "the running gateway at %s has this configuration: nothing to reload\n", addr)
		return
	}
	fmt.Fprintf(out, "changes against the running gateway at %s:\n", addr)
	for _, c := range changes {
		when := "reload"
		if c.Restart {
			when = "restart"
		}
		fmt.Fprintf(out, "  %s: %s -> %s (%s)\n", c.Key, orNone(c.Old), orNone(c.New), when)
	}
	if need := config.RestartKeys(changes); len(need) > 0 {
		fmt.Fprintf(out, "a reload would be refused: a restart is needed for %s (systemctl restart ecardgw)\n", strings.Join(need, ", "))
		return
	}
	fmt.Fprintln(out, "systemctl reload ecardgw applies all of it")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func newConfigShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration: file, defaults and environment overrides, secrets as fingerprints",
		Long: `Print every setting as the gateway would run with it, one "key = value"
line each: the file's values, the defaults for what it leaves out, and
ECARDGW_* environment overrides (marked "# env NAME"). The key file's
entries follow as keys.* with a fingerprint (sha256:xxxxxxxx) instead of
the key, so two boxes can be compared; a password in a URL is redacted.
When the key file cannot be read (not root), only the configuration is
shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := configPath(cmd)
			cfg, err := config.Load(path)
			if err != nil {
				return fmt.Errorf("configuration %s: %w", path, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "# configuration %s\n", path)
			keys, kerr := config.LoadKeys(cfg.Keys.File)
			if kerr != nil {
				fmt.Fprintf(out, "# key file %s not shown: %v\n", cfg.Keys.File, kerr)
				keys = nil
			}
			flat := config.Flatten(cfg, keys)
			for _, k := range flat.Keys() {
				line := k + " = " + flat[k]
				if config.FromEnv(k) {
					line += "  # env " + config.EnvName(k)
				}
				fmt.Fprintln(out, line)
			}
			return nil
		},
	}
}
