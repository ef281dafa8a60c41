package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/admin"
)

// With no --admin, status asks the configuration's listen.admin.
func TestStatusFromConfiguredAdmin(t *testing.T) {
	cfg, db := writeOpsConfigAdmin(t, freeAddr(t))
	seedStore(t, db, 3)
	startOpsDaemon(t, cfg)

	code, out, errOut := runCLI(t, "status", "--config", cfg)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ecardgw v0.0.0-test (standalone mode)")
	require.Contains(t, out, "connections        0\n")
	require.Contains(t, out, "sessions           0\n")
	require.Contains(t, out, "outbox             not forwarded", "standalone without a centre or stream forwards nothing")
	require.Contains(t, out, "centre             standalone\n")
	require.Contains(t, out, "stand-in exposure  0 fen\n")

	code, out, errOut = runCLI(t, "status", "--config", cfg, "--json")
	require.Equal(t, 0, code, errOut)
	var st admin.Status
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Equal(t, 3, st.Outbox.Records)
	require.False(t, st.Outbox.Forwarded)
	require.Greater(t, st.Outbox.OldestAgeSeconds, 0.0, "the seeded records were journaled in the past")
	require.Equal(t, "standalone", st.Mode)
	require.False(t, st.StartedAt.IsZero())
}

// --admin overrides the configuration, which may then be unreadable.
func TestStatusAdminFlag(t *testing.T) {
	cfg, _ := writeOpsConfig(t)
	_, addr := startOpsDaemon(t, cfg)
	code, out, errOut := runCLI(t, "status", "--config", "/nonexistent.yaml", "--admin", addr)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "outbox             not forwarded")
}

func TestPrintStatusForwardedOutbox(t *testing.T) {
	var b strings.Builder
	require.NoError(t, printStatus(&b, admin.Status{Mode: "connected", Centre: "reachable",
		Outbox: admin.OutboxStatus{Records: 3, OldestAgeSeconds: 2, Forwarded: true}}))
	require.Contains(t, b.String(), "outbox             3 records, oldest 2s")
}

func TestStatusWithoutGateway(t *testing.T) {
	cfg, _ := writeOpsConfigAdmin(t, freeAddr(t))
	code, out, errOut := runCLI(t, "status", "--config", cfg)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "no gateway answers at 127.0.0.1:")

	code, _, errOut = runCLI(t, "status", "--config", "/nonexistent.yaml")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "/nonexistent.yaml")
}
