package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// request is shaped like the service API's bodies, with a little of
// everything the walk must follow.
type request struct {
	TradeNo   string            `json:"trade_no"`
	Channel   string            `json:"channel"`
	AmountFen int64             `json:"amount_fen"`
	Account   string            `json:"account,omitempty"`
	Card      *string           `json:"card_number,omitempty"`
	Name      string            `json:"name"`
	StaffNo   string            `json:"staff_no"`
	Tags      []string          `json:"tags"`
	Extra     map[string]string `json:"extra"`
	Items     []item            `json:"items"`
	Payee     *item             `json:"payee"`
	When      time.Time         `json:"when"`
	Any       any               `json:"any"`
	Raw       json.RawMessage   `json:"raw"`
	Skipped   int               `json:"-"`
	NoTag     int
	hidden    int
}

type item struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func decodeStd(data []byte, v any, disallow bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if disallow {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	return nil
}

func TestValidBodiesDecodeAsEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`{"trade_no":"W1","amount_fen":100,"account":"1001"}`,
		`{"trade_no":"W1","amount_fen":100,"card_number":"123456789012"}`,
		`  {"tags":["a","a"],"extra":{"k":"v","K":"w"},"items":[{"name":"x","count":1},{"name":"x","count":1}]}  ` + "\n",
		`{"payee":{"name":"n"},"when":"2026-11-26T04:30:00Z","any":{"a":[1,{"b":null}]},"raw":{"x":1},"NoTag":3}`,
		`{"payee":null,"items":null,"extra":{}}`,
		`{"trade_no":"\u0057\u0031","amount_fen":1e2}`,
		`{}`,
	} {
		var got, want request
		err := Unmarshal([]byte(body), &got, Options{})
		wantErr := decodeStd([]byte(body), &want, true)
		require.Equal(t, wantErr, err, body)
		require.Equal(t, want, got, body)
	}
}

func TestCaseVariantsRefused(t *testing.T) {
	for _, c := range []struct{ body, key, field string }{
		{`{"amount_fen":1,"AMOUNT_FEN":500}`, "AMOUNT_FEN", "amount_fen"},
		{`{"Amount_Fen":500}`, "Amount_Fen", "amount_fen"},
		{`{"notag":1}`, "notag", "NoTag"},
		{`{"items":[{"name":"a"},{"NAME":"b"}]}`, "NAME", "name"},
		{`{"payee":{"Count":2}}`, "Count", "count"},
		{`{"trade_\u004eo":"W1"}`, "trade_No", "trade_no"},
		// Unicode simple folding: the long s is an s, the Kelvin sign a k.
		{`{"tagſ":["a"]}`, "tagſ", "tags"},
		{`{"extra":{},"\u212Aeep":1,"tags":[]}`, "", ""},
	} {
		for _, o := range []Options{{}, {AllowUnknown: true}} {
			err := Unmarshal([]byte(c.body), new(request), o)
			if c.key == "" {
				// K folds to k, which no field name holds: an unknown
				// field, not a case variant.
				if o.AllowUnknown {
					require.NoError(t, err, c.body)
				} else {
					require.ErrorIs(t, err, ErrUnknownField, c.body)
				}
				continue
			}
			var se *Error
			require.ErrorIs(t, err, ErrFieldCase, c.body)
			require.ErrorAs(t, err, &se)
			require.Equal(t, c.key, se.Key)
			require.Equal(t, c.field, se.Field)
		}
	}
	// What encoding/json would have done with them.
	var r request
	require.NoError(t, json.Unmarshal([]byte(`{"amount_fen":1,"AMOUNT_FEN":500}`), &r))
	require.Equal(t, int64(500), r.AmountFen)
	require.NoError(t, json.Unmarshal([]byte(`{"tagſ":["x"]}`), &r))
	require.Equal(t, []string{"x"}, r.Tags, "encoding/json folds the long s")
}

func TestDuplicateKeysRefused(t *testing.T) {
	for _, body := range []string{
		`{"amount_fen":1,"amount_fen":500}`,
		`{"amount_fen":1,"amount\u005ffen":500}`,
		`{"extra":{"k":"a","k":"b"}}`,
		`{"items":[{"name":"a","name":"b"}]}`,
		`{"payee":{"count":1,"count":2}}`,
		`{"any":{"a":1,"a":2}}`,
		`{"any":[{"x":{"y":1,"y":1}}]}`,
		`{"raw":{"a":1,"a":2}}`,
		`{"when":"2026-11-26T04:30:00Z","when":"2027-01-01T00:00:00Z"}`,
		`{"tags":[],"tags":["x"]}`,
		`{"payee":{"name":"\ud800","name":"\udfff"}}`,
	} {
		for _, o := range []Options{{}, {AllowUnknown: true}} {
			err := Unmarshal([]byte(body), new(request), o)
			require.ErrorIs(t, err, ErrDuplicateKey, body)
		}
	}
	// Inside a value an AllowUnknown decode ignores, too: one meaning only.
	err := Unmarshal([]byte(`{"newer":{"a":1,"a":2}}`), new(request), Options{AllowUnknown: true})
	require.ErrorIs(t, err, ErrDuplicateKey)
}

func TestUnknownFields(t *testing.T) {
	body := []byte(`{"trade_no":"W1","tip":{"a":[1,2]},"hidden":3,"Skipped":4}`)
	err := Unmarshal(body, new(request), Options{})
	require.ErrorIs(t, err, ErrUnknownField)
	var se *Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, "tip", se.Key)

	var got, want request
	require.NoError(t, Unmarshal(body, &got, Options{AllowUnknown: true}))
	require.NoError(t, decodeStd(body, &want, false))
	require.Equal(t, want, got)
	require.Equal(t, "W1", got.TradeNo)
	require.Zero(t, got.hidden, "an unexported field is no name")
	require.Zero(t, got.Skipped, `a field tagged "-" is no name`)
}

func TestTrailingData(t *testing.T) {
	for _, body := range []string{`{} {}`, `{} x`, `{}]`, `{}}`, `{} 5`, `{}"`, "{}\x00"} {
		err := Unmarshal([]byte(body), new(request), Options{})
		require.ErrorIs(t, err, ErrTrailingData, "%q", body)
	}
	require.NoError(t, Unmarshal([]byte(" {} \r\n\t"), new(request), Options{}))
}

func TestSyntaxAndTypeErrorsAreEncodingJSONs(t *testing.T) {
	var syn *json.SyntaxError
	require.ErrorAs(t, Unmarshal([]byte(`{"trade_no" "W1"}`), new(request), Options{}), &syn)
	require.ErrorAs(t, Unmarshal([]byte(`{"trade_no":}`), new(request), Options{}), &syn)
	for _, body := range []string{``, `{`, `{"trade_no":"W1"`, `{"items":[`, `   `} {
		require.ErrorIs(t, Unmarshal([]byte(body), new(request), Options{}), io.ErrUnexpectedEOF, "%q", body)
	}
	var typ *json.UnmarshalTypeError
	require.ErrorAs(t, Unmarshal([]byte(`{"amount_fen":"1"}`), new(request), Options{}), &typ)
	require.Equal(t, "amount_fen", typ.Field)
	require.ErrorAs(t, Unmarshal([]byte(`[1]`), new(request), Options{}), &typ)
	require.ErrorAs(t, Unmarshal([]byte(`{"amount_fen":1e400}`), new(request), Options{}), &typ)

	var inv *json.InvalidUnmarshalError
	require.ErrorAs(t, Unmarshal([]byte(`{}`), request{}, Options{}), &inv)
	require.ErrorAs(t, Unmarshal([]byte(`{}`), (*request)(nil), Options{}), &inv)
}

func TestDepthIsBounded(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	require.ErrorIs(t, Check([]byte(`{"any":`+deep+`}`), reflect.TypeFor[request](), Options{}), ErrTooDeep)
	ok := strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1)
	require.NoError(t, Check([]byte(`{"any":`+ok+`}`), reflect.TypeFor[request](), Options{}))
}

// Embedded structs: names resolve as encoding/json resolves them.
// inner and inner2 both have C (untagged, so that vet's check of
// repeated tags does not object to the test of what encoding/json does
// with them).
type inner struct {
	A int `json:"a"`
	B int
	C int
}

type inner2 struct {
	C int
	D int `json:"d"`
}

type tagged struct {
	X int `json:"x"`
}

type withEmbedded struct {
	inner
	*inner2
	tagged `json:"t"`
	B      string `json:"b"`
	Deep   struct {
		inner
	} `json:"deep"`
}

type twice struct {
	Left  struct{ Same } `json:"left"`
	Right struct {
		Same
		Other Same
	} `json:"right"`
	Both struct {
		twinA
		twinB
	} `json:"both"`
}

type Same struct {
	S int
}

type twinA struct{ Same }

type twinB struct{ Same }

// The names fieldsOf finds are exactly those encoding/json fills: each is
// accepted with DisallowUnknownFields, and names it drops are refused.
func TestFieldsAgreeWithEncodingJSON(t *testing.T) {
	for _, v := range []any{&request{}, &withEmbedded{inner2: &inner2{}}, &twice{}, &item{}} {
		typ := reflect.TypeOf(v).Elem()
		f := fieldsOf(typ)
		for name := range f.byName {
			body := []byte(`{"` + name + `":null}`)
			require.NoError(t, decodeStd(body, v, true), "%s: %s", typ, name)
			require.NoError(t, Unmarshal(body, v, Options{}), "%s: %s", typ, name)
		}
	}
	f := fieldsOf(reflect.TypeFor[withEmbedded]())
	require.ElementsMatch(t, []string{"a", "B", "b", "t", "d", "deep"}, f.names, "C is on two embedded structs at one depth: neither")
	w := withEmbedded{inner2: &inner2{}}
	require.Error(t, decodeStd([]byte(`{"C":1}`), &w, true))
	require.ErrorIs(t, Unmarshal([]byte(`{"C":1}`), &w, Options{}), ErrUnknownField)
	require.NoError(t, Unmarshal([]byte(`{"a":1,"B":5,"b":"x","t":{"x":2},"deep":{"a":3,"B":4}}`), &w, Options{}))
	require.Equal(t, 1, w.A)
	require.Equal(t, 5, w.inner.B, "B and b are two names")
	require.Equal(t, "x", w.B)
	require.Equal(t, 2, w.X)
	require.Equal(t, 3, w.Deep.A)
	require.Equal(t, 4, w.Deep.B)

	require.ElementsMatch(t, []string{"S", "Other"}, fieldsOf(reflect.TypeOf(twice{}.Right)).names)
	require.Empty(t, fieldsOf(reflect.TypeOf(twice{}.Both)).names, "Same embedded twice at one depth: no S")
	var tw twice
	require.Error(t, decodeStd([]byte(`{"both":{"S":1}}`), &tw, true))
	require.ErrorIs(t, Unmarshal([]byte(`{"both":{"S":1}}`), &tw, Options{}), ErrUnknownField)
}

func TestErrorText(t *testing.T) {
	err := Unmarshal([]byte(`{"amount_fen":1,"AMOUNT_FEN":5}`), new(request), Options{})
	require.EqualError(t, err, `strictjson: key differs from its field's name in case: "AMOUNT_FEN" is "amount_fen" (offset 28)`)
	err = Unmarshal([]byte(`{"amount_fen":1,"amount_fen":5}`), new(request), Options{})
	require.EqualError(t, err, `strictjson: key appears twice in one object: "amount_fen" (offset 28)`)
	err = Unmarshal([]byte(`{} 1`), new(request), Options{})
	require.EqualError(t, err, `strictjson: data after the JSON value (offset 4)`)
}
