package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoTestbedInTheProduct keeps the two rooms apart: nothing the gateway
// binary links comes from the test bench under gateway/testbed.
func TestNoTestbedInTheProduct(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "ecardgw/cmd/ecardgw").CombinedOutput()
	require.NoError(t, err, string(out))
	var deps int
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "ecardgw/") {
			deps++
		}
		require.NotContains(t, pkg, "/testbed", "cmd/ecardgw links a test bench package")
	}
	require.Greater(t, deps, 10, "go list found the gateway's own packages")
}
