package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// docCommand finds `ecardgw <command> [<subcommand>]` in prose and
// examples.
var docCommand = regexp.MustCompile(`(?:^|[\s\x60])ecardgw ([a-z]+)\b(?: ([a-z]+)\b)?`)

// Every command the operations guide tells an operator to run exists in
// this binary, so the guide cannot describe commands that are not wired.
func TestOperationsGuideCommandsExist(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	root := NewRoot()
	seen := 0
	for _, m := range docCommand.FindAllStringSubmatch(string(doc), -1) {
		args := []string{m[1]}
		if m[2] != "" {
			args = append(args, m[2])
		}
		cmd, rest, err := root.Find(args)
		require.NoError(t, err, "docs/operations.md: ecardgw %v", args)
		require.NotEqual(t, root, cmd, "docs/operations.md: ecardgw %v", args)
		if len(rest) > 0 {
			require.Empty(t, cmd.Commands(), "docs/operations.md: ecardgw %v: %q is not a subcommand", args, rest[0])
		}
		seen++
	}
	require.GreaterOrEqual(t, seen, 8, "the guide names its commands")
}

// The README's quick start names the packages a build needs (cgo: gcc,
// pkg-config, the PC/SC headers) — the ones .ci/deps installs for a build —
// and the one a running gateway needs, before the first command.
func TestReadmeNamesBuildAndRuntimePackages(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	quick, _, ok := strings.Cut(string(readme), "make run")
	require.True(t, ok)
	deps, err := os.ReadFile("../../.ci/deps")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^build_pkgs=\(([^)]*)\)`).FindStringSubmatch(string(deps))
	require.NotNil(t, m, ".ci/deps lists build_pkgs")
	for _, pkg := range append(strings.Fields(m[1]), "libpcsclite1") {
		require.Regexp(t, `(?s)apt-get install[^\n]*\b`+regexp.QuoteMeta(pkg)+`\b`, quick, "the quick start installs %s", pkg)
	}
	require.Contains(t, quick, "cgo")
}
