package strictjson

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fee is shaped like the service's POST /v1/fees body.
type fee struct {
	RequestID string `json:"request_id"`
	Account   string `json:"account"`
	Type      string `json:"type"`
	Target    string `json:"target"`
	AmountFen int64  `json:"amount_fen"`
}

// answer is shaped like the centre's authorization answer, read with
// AllowUnknown as the gateway reads the centre.
type answer struct {
	RC          string `json:"rc"`
	Account     uint64 `json:"account"`
	BalanceFen  int64  `json:"balance_fen"`
	WalletFen   int64  `json:"wallet_fen"`
	Status      string `json:"status"`
	ECardActive bool   `json:"ecard_active"`
}

// FuzzUnmarshal holds the strict decoder to two promises, for request
// and fee bodies (strict) and centre answers (AllowUnknown), against
// oracles that do not share its code:
//
//   - sound: what it accepts, encoding/json accepts too and decodes to
//     the same value; the body has no repeated key in any object, and
//     every key where a struct goes is one of its fields' names exactly;
//   - complete: a body encoding/json decodes, with no repeated key and
//     every struct key exact (and, strict, known), it accepts.
func FuzzUnmarshal(f *testing.F) {
	for _, pattern := range []string{"../service/testdata/topup/*.json", "../service/testdata/fee/*.json", "../centre/testdata/answers/*.json"} {
		files, err := filepath.Glob(pattern)
		require.NoError(f, err)
		require.NotEmpty(f, files, pattern)
		for _, p := range files {
			b, err := os.ReadFile(p)
			require.NoError(f, err)
			f.Add(b)
		}
	}
	f.Add([]byte(`{"amount_fen":1,"AMOUNT_FEN":500}`))
	f.Add([]byte(`{"items":[{"name":"a","count":1}],"extra":{"k":"v"},"any":{"x":[1,{"y":null}]},"when":"2026-11-26T04:30:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		check[request](t, data, Options{})
		check[request](t, data, Options{AllowUnknown: true})
		check[fee](t, data, Options{})
		check[answer](t, data, Options{AllowUnknown: true})
	})
}

func check[T any](t *testing.T, data []byte, o Options) {
	var got, want T
	err := Unmarshal(data, &got, o)
	stdErr := decodeStd(data, &want, !o.AllowUnknown)
	unique, exact, known := oracle(data, reflect.TypeFor[T]())
	if err == nil {
		require.NoError(t, stdErr, "accepted what encoding/json refuses: %q", data)
		require.Equal(t, want, got, "%q", data)
		require.True(t, unique, "accepted a repeated key: %q", data)
		require.True(t, exact, "accepted a key in another case: %q", data)
		require.True(t, known || o.AllowUnknown, "accepted an unknown key: %q", data)
		return
	}
	if stdErr == nil && unique && exact && (known || o.AllowUnknown) {
		t.Fatalf("refused a body with one meaning: %q: %v", data, err)
	}
}

// oracle decodes data with encoding/json alone. unique: the body has as
// many keys as the decoded tree (a repeated key collapses); exact: every
// key where t has a struct is one of the struct's json tag names, or
// unlike every one of them without regard to case; known: every such key
// is a tag name. All true when data is not JSON.
func oracle(data []byte, t reflect.Type) (unique, exact, known bool) {
	var tree any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(&tree) != nil {
		return true, true, true
	}
	exact, known = true, true
	walk(tree, t, &exact, &known)
	return countKeys(data) == treeKeys(tree), exact, known
}

func countKeys(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n := 0
	var inObject []bool
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		switch tok {
		case json.Delim('{'):
			inObject = append(inObject, true)
			expectKey = true
			continue
		case json.Delim('['):
			inObject = append(inObject, false)
		case json.Delim('}'), json.Delim(']'):
			inObject = inObject[:len(inObject)-1]
		default:
			if expectKey {
				n++
				expectKey = false
				continue
			}
		}
		expectKey = len(inObject) > 0 && inObject[len(inObject)-1]
	}
}

func treeKeys(v any) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			n += 1 + treeKeys(e)
		}
	case []any:
		for _, e := range x {
			n += treeKeys(e)
		}
	}
	return n
}

// walk checks the keys of v where t (flat structs of tagged fields, as
// the fuzz types are) has a struct.
func walk(v any, t reflect.Type, exact, known *bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() == reflect.Map {
			for _, e := range x {
				walk(e, t.Elem(), exact, known)
			}
			return
		}
		if t.Kind() != reflect.Struct || t.PkgPath() == "time" {
			return
		}
		names := map[string]reflect.Type{}
		for i := range t.NumField() {
			sf := t.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			switch {
			case !sf.IsExported() || name == "-":
				continue
			case name == "":
				name = sf.Name
			}
			names[name] = sf.Type
		}
		for k, e := range x {
			ft, ok := names[k]
			if ok {
				walk(e, ft, exact, known)
				continue
			}
			*known = false
			for n := range names {
				if strings.EqualFold(n, k) {
					*exact = false
				}
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, e := range x {
				walk(e, t.Elem(), exact, known)
			}
		}
	}
}
