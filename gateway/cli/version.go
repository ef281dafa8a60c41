package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version and Revision are set at link time:
//
//	go build -ldflags "-X ecardgw/gateway/cli.Version=v1.2.0 -X ecardgw/gateway/cli.Revision=$(git rev-parse HEAD)"
//
// When empty, BuildInfo falls back to what the Go toolchain recorded.
var (
	Version  string
	Revision string
)

// BuildInfo returns the version, VCS revision and Go version of this
// binary, for `ecardgw version` and the ecardgw_build_info metric.
func BuildInfo() (version, revision, goVersion string) {
	version, revision = Version, Revision
	if bi, ok := debug.ReadBuildInfo(); ok {
		if version == "" {
			version = bi.Main.Version
		}
		if revision == "" {
			revision = vcsRevision(bi.Settings)
		}
	}
	if version == "" {
		version = "(devel)"
	}
	if revision == "" {
		revision = "unknown"
	}
	return version, revision, runtime.Version()
}

// versionString is the release version alone, as the daemon reports it in
// /status and the build_info metric (which adds revision and Go version).
func versionString() string {
	v, _, _ := BuildInfo()
	return v
}

func vcsRevision(settings []debug.BuildSetting) string {
	var rev, modified string
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" && modified == "true" {
		rev += "-dirty"
	}
	return rev
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, revision and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, r, g := BuildInfo()
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "ecardgw %s\nrevision %s\n%s\n", v, r, g)
			return err
		},
	}
}
