package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/metrics"
)

const adminToken = "adm-token-0123456789abcdefghijklmnopqrstuv"

func validToken(tok string) bool { return tok == adminToken }

// request sends GET url with the Host header host ("" keeps the URL's)
// and, when not empty, the Authorization header auth.
func request(t *testing.T, url, host, auth string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(body)
}

func statusOK(context.Context) (Status, error) { return Status{Version: "v1"}, nil }

func portOf(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

var journalRoute = map[string]http.Handler{"GET /journal": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "records\n")
})}

// The journal, the backup and pprof need an admin token; the probes,
// the metrics and the status do not.
func TestAdminTokenGuardsDataRoutes(t *testing.T) {
	s, base := start(t, "127.0.0.1:0", metrics.New(metrics.BuildInfo{}), Options{Local: journalRoute, Tokens: validToken,
		Status: statusOK})
	require.True(t, s.PprofEnabled())
	for _, path := range []string{"/journal", "/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
		for _, auth := range []string{"", "Bearer ", "Bearer wrong-token-0123456789abcdefghijklmnop", "Basic " + adminToken,
			"Bearer " + adminToken[:len(adminToken)-1], adminToken} {
			code, hdr, body := request(t, base+path, "", auth)
			require.Equal(t, http.StatusUnauthorized, code, "%s with %q", path, auth)
			require.Equal(t, `Bearer realm="ecardgw-admin"`, hdr.Get("WWW-Authenticate"))
			require.NotContains(t, body, "records")
			require.NotContains(t, body, "goroutine")
		}
		for _, auth := range []string{"Bearer " + adminToken, "bearer " + adminToken, "BEARER  " + adminToken + " "} {
			code, _, _ := request(t, base+path, "", auth)
			require.Equal(t, http.StatusOK, code, "%s with %q", path, auth)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/status"} {
		code, _, _ := request(t, base+path, "", "")
		require.Equal(t, http.StatusOK, code, "%s stays open", path)
	}
}

// Without a token check (no admin_tokens in the key file), nothing
// guarded is served.
func TestNoTokensNoDataRoutes(t *testing.T) {
	_, base := start(t, "127.0.0.1:0", nil, Options{Local: journalRoute})
	for _, path := range []string{"/journal", "/debug/pprof/"} {
		code, _, _ := request(t, base+path, "", "Bearer "+adminToken)
		require.Equal(t, http.StatusUnauthorized, code, path)
		code, _, _ = request(t, base+path, "", "")
		require.Equal(t, http.StatusUnauthorized, code, path)
	}
	code, _, _ := request(t, base+"/healthz", "", "")
	require.Equal(t, http.StatusOK, code)
}

// A Host header other than the listener's own is refused before anything
// else, token or not: a page whose DNS name was rebound to 127.0.0.1
// reaches no route of the admin listener.
func TestHostHeaderChecked(t *testing.T) {
	s, base := start(t, "127.0.0.1:0", metrics.New(metrics.BuildInfo{}), Options{Local: journalRoute, Tokens: validToken,
		AllowedHosts: []string{"gw1.mgmt.example", "10.9.8.7"}, Status: statusOK})
	port := portOf(s.Addr())
	good := []string{"127.0.0.1:" + port, "localhost:" + port, "LocalHost:" + port, "localhost.:" + port,
		"[::1]:" + port, "127.0.0.2:" + port, "gw1.mgmt.example:" + port, "GW1.Mgmt.Example.:" + port, "10.9.8.7:" + port}
	bad := []string{"evil.example:" + port, "localhost.evil.example:" + port, "127.0.0.1.nip.io:" + port,
		"127.0.0.1:1", "localhost", "127.0.0.1", "gw1.mgmt.example", "evil.example", ":" + port, "10.9.8.6:" + port,
		"gw1.mgmt.example.evil:" + port, "127.0.0.1:" + port + "0", "[::1]:1"}
	for _, path := range []string{"/journal", "/debug/pprof/", "/healthz", "/readyz", "/metrics", "/status", "/nowhere"} {
		for _, host := range good {
			code, _, _ := request(t, base+path, host, "Bearer "+adminToken)
			want := http.StatusOK
			if path == "/nowhere" {
				want = http.StatusNotFound
			}
			require.Equal(t, want, code, "%s with Host %q", path, host)
		}
		for _, host := range bad {
			for _, auth := range []string{"Bearer " + adminToken, ""} {
				code, _, body := request(t, base+path, host, auth)
				require.Equal(t, http.StatusForbidden, code, "%s with Host %q", path, host)
				require.NotContains(t, body, "records")
				require.NotContains(t, body, "ecardgw_")
			}
		}
	}
}

// On a listener bound to every interface the Host may be the address the
// client connected to, or the configured name; never another name.
func TestHostHeaderOnWildcardListener(t *testing.T) {
	s, _ := start(t, ":0", nil, Options{Tokens: validToken})
	port := portOf(s.Addr())
	base := "http://127.0.0.1:" + port
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, ":" + port} {
		code, _, _ := request(t, base+"/healthz", host, "")
		require.Equal(t, http.StatusOK, code, host)
	}
	for _, host := range []string{"evil.example:" + port, "10.1.1.1:" + port, "127.0.0.1:1"} {
		code, _, _ := request(t, base+"/healthz", host, "")
		require.Equal(t, http.StatusForbidden, code, host)
	}

	// The CLI asks the configured address itself: 0.0.0.0:9100 sends
	// Host 0.0.0.0:9100.
	zeros, _ := start(t, "0.0.0.0:0", nil, Options{})
	zport := portOf(zeros.Addr())
	for host, want := range map[string]int{"0.0.0.0:" + zport: http.StatusOK, "127.0.0.1:" + zport: http.StatusOK, "evil.example:" + zport: http.StatusForbidden} {
		code, _, _ := request(t, "http://127.0.0.1:"+zport+"/healthz", host, "")
		require.Equal(t, want, code, host)
	}

	named, _ := start(t, "localhost:0", nil, Options{})
	nport := portOf(named.Addr())
	for _, host := range []string{"localhost:" + nport, "127.0.0.1:" + nport} {
		code, _, _ := request(t, "http://"+named.Addr()+"/healthz", host, "")
		require.Equal(t, http.StatusOK, code, host)
	}
}
