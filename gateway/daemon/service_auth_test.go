package daemon_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
)

// serviceCall calls the gateway's service API with a bearer token ("" for
// none) and returns the status and body.
func (g *gateway) serviceCall(method, path, token string) (int, string) {
	g.t.Helper()
	req, err := http.NewRequest(method, "http://"+g.d.Service.Addr()+path, nil)
	require.NoError(g.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(g.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(g.t, err)
	return res.StatusCode, string(b)
}

// TestServiceAPIAuthenticatedThroughDaemon: the daemon's service listener
// is on loopback, refuses every call without a valid token (reads and
// writes: a refused loss report changes nothing), accepts the key file's
// token, takes a rotated token on reload (the old one is refused), and a
// loss reported through it stops the card at the terminal within a second
// (promise 6).
func TestServiceAPIAuthenticatedThroughDaemon(t *testing.T) {
	g := startGateway(t, gwOptions{})
	require.NotNil(t, g.d.Service, "the service API runs when the key file has tokens")
	require.True(t, strings.HasPrefix(g.d.Service.Addr(), "127.0.0.1:"))
	good := strings.Repeat("t", 40)
	for _, tok := range []string{"", strings.Repeat("u", 40), good[:39], good + "x"} {
		code, body := g.serviceCall(http.MethodGet, "/v1/accounts/1", tok)
		require.Equal(t, http.StatusUnauthorized, code, body)
		require.NotContains(t, body, "Student 1")
		code, _ = g.serviceCall(http.MethodPost, "/v1/accounts/1/loss", tok)
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, body := g.serviceCall(http.MethodGet, "/v1/accounts/1", good)
	require.Equal(t, http.StatusOK, code, body)

	ctx := context.Background()
	p, _ := g.dial(1)
	_, err := p.SignIn(ctx, 1)
	require.NoError(t, err)
	resp, _, err := p.Send(ctx, p.CardPurchase(cardOf(1), 10, nil), true)
	require.NoError(t, err)
	require.Equal(t, "00", posclient.RC(resp), "the refused loss reports changed nothing")

	// Rotate the token in the key file; a reload applies it.
	rotated := strings.Repeat("r", 40)
	keys := filepath.Join(g.dir, "keys.yaml")
	kb, err := os.ReadFile(keys)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keys, []byte(strings.ReplaceAll(string(kb), good, rotated)), 0o600))
	require.NoError(t, g.d.Reload())
	code, _ = g.serviceCall(http.MethodGet, "/v1/accounts/1", good)
	require.Equal(t, http.StatusUnauthorized, code, "the old token after rotation")

	code, body = g.serviceCall(http.MethodPost, "/v1/accounts/1/loss", rotated)
	require.Equal(t, http.StatusOK, code, body)
	reported := time.Now()
	resp, _, err = p.Send(ctx, p.CardPurchase(cardOf(1), 10, nil), true)
	require.NoError(t, err)
	require.Equal(t, "41", posclient.RC(resp), "a lost card stops at once")
	require.Less(t, time.Since(reported), time.Second)
}
