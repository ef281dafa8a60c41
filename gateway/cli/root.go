// Package cli is the ecardgw command line: the cobra command tree, one file
// per command group (serve, accounts, code, cards, demo, version).
//
// root.go owns what every command shares: the --config flag, how errors are
// printed (once, to stderr) and the exit codes (0 ok, 1 failure, 2 usage).
// Commands are thin: they parse flags, load configuration through
// gateway/config and call into the packages that do the work. This package
// is not for business logic, protocol code or anything a test of another
// package would need to import.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// defaultConfigPath is where --config points unless ECARDGW_CONFIG says
// otherwise; `ecardgw demo init` writes it.
const defaultConfigPath = "./var/ecardgw.yaml"

// systemConfigPath is where the configuration is read from when neither
// --config nor ECARDGW_CONFIG names one and defaultConfigPath does not
// exist: the installed gateway's (docs/operations.md). A variable for
// tests.
var systemConfigPath = "/etc/ecardgw/ecardgw.yaml"

// commands builds the top-level subcommands, in help order. Each command
// group adds its constructor here.
var commands = []func() *cobra.Command{
	newServeCmd,
	newAccountsCmd,
	newDemoCmd,
	newCodeCmd,
	newCardsCmd,
	newStatusCmd,
	newTerminalsCmd,
	newJournalCmd,
	newReconcileCmd,
	newStoreCmd,
	newDeadLettersCmd,
	newConfigCmd,
	newVersionCmd,
}

// Execute runs the command line in os.Args and returns the process exit
// code: 0 success, 1 failure, 2 usage error.
func Execute() int {
	return execute(NewRoot(), os.Args[1:], os.Stdout, os.Stderr)
}

func execute(root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	// Wrapped here rather than in NewRoot so that commands added to the
	// root after NewRoot (tests do) get usage exit codes too.
	markArgErrorsAsUsage(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	// Cobra is silenced so that each error is printed exactly once, here.
	fmt.Fprintf(stderr, "ecardgw: %v\n", err)
	if errors.Is(err, ErrUsage) {
		fmt.Fprintln(stderr, "Run 'ecardgw --help' for usage.")
		return 2
	}
	return 1
}

// NewRoot builds the whole command tree. Tests build a fresh one per case
// because cobra commands keep parsed flag state.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "ecardgw",
		Short:         "Campus-card terminal gateway",
		Long:          "ecardgw connects campus POS terminals, settlement POS and kiosks to the campus card accounts.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("missing command")
		},
	}
	path := os.Getenv("ECARDGW_CONFIG")
	if path == "" {
		path = defaultConfigPath
	}
	root.PersistentFlags().String("config", path, "configuration `FILE` (env ECARDGW_CONFIG; without either, ./var/ecardgw.yaml if it exists, else /etc/ecardgw/ecardgw.yaml)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, mk := range commands {
		root.AddCommand(mk())
	}
	return root
}

// markArgErrorsAsUsage wraps every command's argument check so that its
// failure (an unknown subcommand, a missing argument) exits 2.
func markArgErrorsAsUsage(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markArgErrorsAsUsage(sub)
	}
}

// ErrUsage marks an error in how the command was called (unknown command,
// bad flag, wrong arguments). Execute exits 2 for it instead of 1.
var ErrUsage = errors.New("usage error")

type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// Unwrap exposes both ErrUsage and the cause, so errors.Is works for either.
func (e usageError) Unwrap() []error { return []error{ErrUsage, e.err} }

// usagef returns a usage error; commands use it for bad arguments that
// cobra's own checks do not catch.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}
