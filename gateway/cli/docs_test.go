package cli

import (
	"os"
	"regexp"
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
