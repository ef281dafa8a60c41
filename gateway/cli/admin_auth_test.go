package cli

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/inspect"
)

// adminGet sends GET path to the admin listener at addr with the Host
// header host ("": addr) and the bearer token tok ("": none).
func adminGet(t *testing.T, addr, path, host, tok string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// The running gateway serves its store only to a request with an admin
// token from the key file and a Host header that names the listener.
func TestDaemonAdminDataNeedsToken(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 5)
	_, addr := startOpsDaemon(t, cfg)
	port := addr[strings.LastIndex(addr, ":")+1:]

	for _, path := range []string{"/backup", "/journal?tail=5", "/debug/pprof/goroutine?debug=2"} {
		code, body := adminGet(t, addr, path, "", "")
		require.Equal(t, http.StatusUnauthorized, code, path)
		require.NotContains(t, body, opsCard)
		code, _ = adminGet(t, addr, path, "", strings.Repeat("t", 40))
		require.Equal(t, http.StatusUnauthorized, code, "%s: a service token is not an admin token", path)
		code, _ = adminGet(t, addr, path, "evil.example:"+port, opsAdminToken)
		require.Equal(t, http.StatusForbidden, code, "%s: a foreign Host (DNS rebinding)", path)
		code, _ = adminGet(t, addr, path, "", opsAdminToken)
		require.Equal(t, http.StatusOK, code, path)
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/status"} {
		code, _ := adminGet(t, addr, path, "", "")
		require.Equal(t, http.StatusOK, code, "%s needs no token", path)
		code, _ = adminGet(t, addr, path, "evil.example:"+port, "")
		require.Equal(t, http.StatusForbidden, code, "%s: a foreign Host", path)
	}
}

// The online commands send the key file's admin token; without one in the
// key file they say what to add, and status (no store data) still works.
func TestOnlineCommandsWithoutAdminToken(t *testing.T) {
	cfg, db := writeOpsConfigWith(t, "127.0.0.1:0", "", "")
	seedStore(t, db, 3)
	_, addr := startOpsDaemon(t, cfg)
	file := filepath.Join(t.TempDir(), "backup.db")
	for _, args := range [][]string{
		{"store", "backup", file},
		{"journal", "tail"},
		{"journal", "export", "--since", "1"},
	} {
		code, out, errOut := runCLI(t, append(args, "--config", cfg, "--admin", addr)...)
		require.Equal(t, 1, code, args)
		require.Empty(t, out)
		require.Contains(t, errOut, "admin_tokens", args)
	}
	require.NoFileExists(t, file)
	code, _, errOut := runCLI(t, "status", "--config", cfg, "--admin", addr)
	require.Equal(t, 0, code, errOut)
}

// admin.transfer_timeout reaches the running gateway: a backup whose
// reader stops is cut off then, terminals' writes go on meanwhile, and
// the next backup is served.
func TestDaemonCutsStalledBackup(t *testing.T) {
	const limit = 2 * time.Second
	cfg, db := writeOpsConfigWith(t, "127.0.0.1:0", "admin: {transfer_timeout: 2s}\n", "admin_tokens: ["+opsAdminToken+"]\n")
	seedStore(t, db, 30000) // megabytes: more than the sockets' buffers
	d, addr := startOpsDaemon(t, cfg)

	// A client with a tiny receive window that reads nothing.
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		_ = c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	c, err := dialer.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/backup", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+opsAdminToken)
	require.NoError(t, req.Write(c))
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the backup has started")

	appendOps(t, d.DB, 30001, 30005)
	require.Less(t, time.Since(start), limit, "writes waited for the stalled backup")
	code, _, errOut := runCLI(t, "store", "backup", filepath.Join(t.TempDir(), "b.db"), "--config", cfg, "--admin", addr)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "another backup is running")
	require.Less(t, time.Since(start), limit, "the second backup was tried while the first ran")

	// Cut off after the limit: the next backup is served, and whole.
	file := filepath.Join(t.TempDir(), "backup.db")
	require.Eventually(t, func() bool {
		code, _, _ := runCLI(t, "store", "backup", file, "--config", cfg, "--admin", addr, "--force")
		return code == 0
	}, 10*time.Second, 100*time.Millisecond)
	require.Less(t, time.Since(start), limit+4*time.Second)
	require.Contains(t, checkOut(t, file), "journal length  30005 records")

	// What the stalled client gets in the end is not a confirmed backup.
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.Copy(io.Discard, resp.Body)
	if err == nil {
		require.NotContains(t, resp.Trailer.Get(inspect.ResultTrailer), "ok")
	}
}

// The online commands still work against a running gateway (store backup,
// journal export and tail in store_test.go and journal_test.go); the
// token travels only in the Authorization header, never in the output.
func TestOnlineCommandsSendToken(t *testing.T) {
	cfg, db := writeOpsConfig(t)
	seedStore(t, db, 4)
	_, addr := startOpsDaemon(t, cfg)
	code, out, errOut := runCLI(t, "journal", "tail", "-n", "2", "--config", cfg, "--admin", addr)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, []string{"3", "4"}, seqsOf(out))
	requireClean(t, out+errOut)
	code, out, errOut = runCLI(t, "status", "--config", cfg, "--admin", addr)
	require.Equal(t, 0, code, errOut)
	requireClean(t, out+errOut)
}
