package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// runCLI runs the command line as Execute does and returns the exit code,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(NewRoot(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestVersion(t *testing.T) {
	code, out, errOut := runCLI(t, "version")
	require.Equal(t, 0, code)
	require.Empty(t, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	require.True(t, strings.HasPrefix(lines[0], "ecardgw "), lines[0])
	require.True(t, strings.HasPrefix(lines[1], "revision "), lines[1])
	require.Equal(t, runtime.Version(), lines[2])
}

func TestVersionFromLinker(t *testing.T) {
	oldV, oldR := Version, Revision
	t.Cleanup(func() { Version, Revision = oldV, oldR })
	Version, Revision = "v1.2.3", "abc1234"
	code, out, _ := runCLI(t, "version")
	require.Equal(t, 0, code)
	require.Equal(t, "ecardgw v1.2.3\nrevision abc1234\n"+runtime.Version()+"\n", out)
	require.Equal(t, "v1.2.3", versionString())
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := map[string][]string{
		"no command":      nil,
		"unknown command": {"frobnicate"},
		"unknown flag":    {"--frobnicate"},
		"extra argument":  {"version", "now"},
		"demo alone":      {"demo"},
		"demo unknown":    {"demo", "destroy"},
		"bad flag value":  {"demo", "init", "--force=maybe"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, args...)
			require.Equal(t, 2, code, errOut)
			require.Empty(t, out)
			require.Equal(t, 1, strings.Count(errOut, "ecardgw: "), errOut)
			require.Contains(t, errOut, "Run 'ecardgw --help' for usage.")
		})
	}
}

func TestFailureExit1PrintedOnce(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notADir, []byte("x"), 0o600))
	code, _, errOut := runCLI(t, "demo", "init", "--dir", notADir)
	require.Equal(t, 1, code)
	require.Equal(t, "ecardgw: demo: "+notADir+" exists and is not a directory\n", errOut)
}

func TestHelpIsNotAnError(t *testing.T) {
	code, out, errOut := runCLI(t, "--help")
	require.Equal(t, 0, code)
	require.Empty(t, errOut)
	require.Contains(t, out, "demo")
	require.Contains(t, out, "--config FILE")
}

func TestConfigFlagDefault(t *testing.T) {
	require.Equal(t, defaultConfigPath, NewRoot().PersistentFlags().Lookup("config").DefValue)
	t.Setenv("ECARDGW_CONFIG", "/etc/ecardgw/ecardgw.yaml")
	require.Equal(t, "/etc/ecardgw/ecardgw.yaml", NewRoot().PersistentFlags().Lookup("config").DefValue)
}

// Every command's argument errors become usage errors, including those of
// commands added after NewRoot.
func TestArgErrorsOfEveryCommandAreUsage(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Args != nil {
			err := c.Args(c, []string{"x", "y", "z", "w"})
			if err != nil {
				require.ErrorIs(t, err, ErrUsage, c.CommandPath())
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := NewRoot()
	root.AddCommand(&cobra.Command{Use: "later", Args: cobra.NoArgs, RunE: func(*cobra.Command, []string) error { return nil }})
	markArgErrorsAsUsage(root)
	walk(root)
}
