package refcentre

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/centre"
)

var fuzzPaths = []string{centre.PathAuthorize, centre.PathRecords, centre.PathPay, centre.PathQuery,
	centre.PathCancel, centre.PathRefund, PathLoss, PathStatus}

// FuzzHandler: no request body makes the centre fail (5xx) or answer
// something that is not JSON.
func FuzzHandler(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		for i := range fuzzPaths {
			f.Add(uint8(i), b)
		}
	}
	c, err := OpenOptions(f.TempDir(), Options{PayDelay: 1, NoSync: true})
	require.NoError(f, err)
	f.Cleanup(func() { _ = c.Close() })
	_, _, err = c.Import(rowsN(2, 10000))
	require.NoError(f, err)
	h := c.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := fuzzPaths[int(which)%len(fuzzPaths)]
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		require.Less(t, rec.Code, 500, "%s: %s", path, rec.Body.String())
		require.True(t, json.Valid(rec.Body.Bytes()), "%s answered non-JSON", path)
	})
}
