package refcentre

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

var openAPIPath = filepath.Join("..", "..", "..", "docs", "centre-openapi.yaml")

// TestOpenAPIMatchesRoutes: docs/centre-openapi.yaml lists exactly the
// routes the handler serves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile(openAPIPath)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.True(t, strings.HasPrefix(doc["openapi"].(string), "3.0."))
	var inDoc, inCode []string
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			inDoc = append(inDoc, strings.ToUpper(method)+" "+path)
			responses := op.(map[string]any)["responses"].(map[string]any)
			require.Contains(t, responses, "200", path)
		}
	}
	for _, rt := range Routes() {
		inCode = append(inCode, rt.Method+" "+rt.Path)
	}
	sort.Strings(inDoc)
	sort.Strings(inCode)
	require.Equal(t, inCode, inDoc)
}
