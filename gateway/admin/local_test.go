package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLocalRoutesOnlyOnLoopback(t *testing.T) {
	_, base := start(t, "127.0.0.1:0", nil, Options{Local: journalRoute, Tokens: validToken})
	code, _, body := request(t, base+"/journal", "", "Bearer "+adminToken)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "records\n", body)

	wide, _ := start(t, ":0", nil, Options{Local: journalRoute, Tokens: validToken})
	port := wide.Addr()[strings.LastIndex(wide.Addr(), ":"):]
	code, _, _ = request(t, "http://127.0.0.1"+port+"/journal", "", "Bearer "+adminToken)
	require.Equal(t, http.StatusNotFound, code, "bound to every interface: no local routes, token or not")
}
