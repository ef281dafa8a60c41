package service

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

var openAPIPath = filepath.Join("..", "..", "docs", "service-openapi.yaml")

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(openAPIPath)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.True(t, strings.HasPrefix(doc["openapi"].(string), "3.0."))
	return doc
}

// TestOpenAPIMatchesRoutes: the document lists exactly the routes the
// server has, every route answers 401 and every write 403 in it.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	var inDoc, inCode []string
	ops := map[string]map[string]any{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			key := strings.ToUpper(method) + " " + path
			inDoc = append(inDoc, key)
			ops[key] = op.(map[string]any)
		}
	}
	for _, rt := range apiRoutes {
		key := rt.method + " " + rt.path
		inCode = append(inCode, key)
		op, ok := ops[key]
		require.True(t, ok, "%s is not in %s", key, openAPIPath)
		responses := op["responses"].(map[string]any)
		require.Contains(t, responses, "200", key)
		require.Contains(t, responses, "401", key)
		require.Contains(t, responses, "500", key)
		if rt.write {
			require.Contains(t, responses, "403", key)
		} else {
			require.NotContains(t, responses, "403", key)
		}
	}
	sort.Strings(inDoc)
	sort.Strings(inCode)
	require.Equal(t, inCode, inDoc)
}

// TestOpenAPISchemasMatchTypes: each schema has exactly the JSON fields of
// the Go type the server encodes or decodes, and the error codes are the
// constants.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, v := range map[string]any{
		"Error":          apiError{},
		"Account":        accountResponse{},
		"HistoryRecord":  historyRecord{},
		"History":        historyResponse{},
		"TopUpRequest":   topUpRequest{},
		"TopUpResult":    topUpResponse{},
		"FeeRequest":     feeRequest{},
		"FeeResult":      feeResponse{},
		"Loss":           lossResponse{},
		"ImportResult":   importResponse{},
		"BlacklistEntry": blacklistEntry{},
		"Blacklist":      blacklistResponse{},
		"Binding":        bindResponse{},
		"BindingsList":   bindingsResponse{},
		"BindingView":    bindingView{},
	} {
		s, ok := schemas[name].(map[string]any)
		require.True(t, ok, "schema %s", name)
		var props []string
		for p := range s["properties"].(map[string]any) {
			props = append(props, p)
		}
		sort.Strings(props)
		require.Equal(t, jsonFields(reflect.TypeOf(v)), props, name)
		for _, r := range s["required"].([]any) {
			require.Contains(t, props, r, name)
		}
	}
	var codes []string
	for _, c := range schemas["Error"].(map[string]any)["properties"].(map[string]any)["code"].(map[string]any)["enum"].([]any) {
		codes = append(codes, c.(string))
	}
	want := []string{CodeUnauthorized, CodeBadRequest, CodeNotFound, CodeConflict, CodeLimit,
		CodeInsufficient, CodeFrozen, CodeReadOnly, CodeInternal}
	slices.Sort(codes)
	slices.Sort(want)
	require.Equal(t, want, codes)

	// Every $ref points at something.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
				var cur any = doc
				for _, p := range parts {
					m, ok := cur.(map[string]any)
					require.True(t, ok, ref)
					cur, ok = m[p]
					require.True(t, ok, "dangling $ref %s", ref)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
