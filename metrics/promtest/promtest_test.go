package promtest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigIsValid(t *testing.T) {
	tool := Promtool(t)
	f := filepath.Join(t.TempDir(), "p.yml")
	require.NoError(t, os.WriteFile(f, []byte(config([]string{"127.0.0.1:9100", "127.0.0.1:9101"})), 0o600))
	out, err := exec.Command(tool, "check", "config", f).CombinedOutput()
	require.NoError(t, err, string(out))
}

// fakeAPI answers /api/v1/query with canned bodies, by query text.
func fakeAPI(t *testing.T, bodies map[string]string) *Prom {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(bodies[r.URL.Query().Get("query")]))
	}))
	t.Cleanup(srv.Close)
	return &Prom{URL: srv.URL, client: srv.Client()}
}

func TestQuery(t *testing.T) {
	p := fakeAPI(t, map[string]string{
		"up":    `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"ecardgw"},"value":[1764118800.1,"1"]}]}}`,
		"1+1":   `{"status":"success","data":{"resultType":"scalar","result":[1764118800.1,"2"]}}`,
		"none":  `{"status":"success","data":{"resultType":"vector","result":[]}}`,
		"bad(":  `{"status":"error","errorType":"bad_data","error":"parse error"}`,
		"range": `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		"junk":  `{"status":`,
	})
	v, err := p.Query("up")
	require.NoError(t, err)
	require.InDelta(t, 1, v, 0)
	v, err = p.Query("1+1")
	require.NoError(t, err)
	require.InDelta(t, 2, v, 0)
	_, err = p.Query("none")
	require.ErrorIs(t, err, ErrNoData)
	_, err = p.Query("bad(")
	require.ErrorIs(t, err, ErrQuery)
	require.Contains(t, err.Error(), "parse error")
	_, err = p.Query("range")
	require.ErrorIs(t, err, ErrQuery)
	_, err = p.Query("junk")
	require.ErrorIs(t, err, ErrQuery)

	v, err = p.WaitFor("up", func(v float64) bool { return v == 1 }, time.Second)
	require.NoError(t, err)
	require.InDelta(t, 1, v, 0)
	_, err = p.WaitFor("up", func(v float64) bool { return v == 0 }, 0)
	require.Error(t, err)
}
