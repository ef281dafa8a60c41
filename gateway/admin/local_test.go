package admin

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLocalRoutesOnlyOnLoopback(t *testing.T) {
	local := map[string]http.Handler{"GET /journal": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "records\n")
	})}
	_, base := start(t, "127.0.0.1:0", nil, Options{Local: local})
	code, body := get(t, base+"/journal")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "records\n", body)

	wide, _ := start(t, ":0", nil, Options{Local: local})
	port := wide.Addr()[strings.LastIndex(wide.Addr(), ":"):]
	code, _ = get(t, "http://127.0.0.1"+port+"/journal")
	require.Equal(t, http.StatusNotFound, code, "bound to every interface: no local routes")
}
