// Package strictjson decodes JSON the way a money API must read it: one
// meaning per body. encoding/json matches an object's keys to struct
// fields without regard to case (Unicode simple folding: "AMOUNT_FEN",
// "Amount_Fen" and "amount_fen" all fill AmountFen) and, when a key comes
// twice, keeps the last; so {"amount_fen":1,"AMOUNT_FEN":500} means 1 to
// a front end that reads the first exact key and 500 to the gateway.
//
// Unmarshal first walks the body's tokens against the target type and
// refuses, before anything is decoded:
//
//   - a key that appears twice in one object (after unescaping, so
//     "amount\u005ffen" is amount_fen);
//   - a key that names a struct field in another case (ErrFieldCase);
//   - a key that names no field (ErrUnknownField), unless AllowUnknown;
//   - anything after the one JSON value but white space;
//   - nesting deeper than MaxDepth.
//
// Only then does encoding/json decode the body; every key left names its
// field exactly, so its case-insensitive matching never comes into play.
// Types with their own UnmarshalJSON or UnmarshalText (time.Time), maps
// and interface values are walked for duplicate keys only.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// MaxDepth bounds the nesting of arrays and objects, as encoding/json
// does.
const MaxDepth = 10000

// Sentinel errors; every *Error wraps one.
var (
	ErrDuplicateKey = errors.New("strictjson: key appears twice in one object")
	ErrFieldCase    = errors.New("strictjson: key differs from its field's name in case")
	ErrUnknownField = errors.New("strictjson: key names no field")
	ErrTrailingData = errors.New("strictjson: data after the JSON value")
	ErrTooDeep      = errors.New("strictjson: nested too deeply")
)

// Error is a body the strict walk refused. Key is the key as the client
// wrote it (unescaped): it may hold anything, so quote it only after
// sanitizing. Field is, for ErrFieldCase, the field's name as documented.
type Error struct {
	Err    error  // one of the sentinels
	Key    string // the offending key; "" for ErrTrailingData and ErrTooDeep
	Field  string // ErrFieldCase: the name Key differs from in case
	Offset int64  // input byte offset just after the offending token
}

func (e *Error) Error() string {
	switch {
	case e.Field != "":
		return fmt.Sprintf("%v: %q is %q (offset %d)", e.Err, e.Key, e.Field, e.Offset)
	case e.Key != "":
		return fmt.Sprintf("%v: %q (offset %d)", e.Err, e.Key, e.Offset)
	}
	return fmt.Sprintf("%v (offset %d)", e.Err, e.Offset)
}

func (e *Error) Unwrap() error { return e.Err }

// Options shape Unmarshal.
type Options struct {
	// AllowUnknown lets keys that name no field through (encoding/json
	// ignores them), for answers from a peer that may add fields. A key
	// that names a field in another case is refused all the same.
	AllowUnknown bool
}

// Unmarshal decodes data, exactly one JSON value, into v (a non-nil
// pointer) after the strict walk. Syntax errors are *json.SyntaxError and
// type mismatches *json.UnmarshalTypeError, as from encoding/json.
func Unmarshal(data []byte, v any, o Options) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &json.InvalidUnmarshalError{Type: reflect.TypeOf(v)}
	}
	if err := Check(data, rv.Type().Elem(), o); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if !o.AllowUnknown {
		dec.DisallowUnknownFields()
	}
	return dec.Decode(v)
}

// Check is the strict walk alone: it reports whether data is exactly one
// JSON value whose objects have unique keys that, where t says a struct
// goes, name its fields exactly.
func Check(data []byte, t reflect.Type, o Options) error {
	w := walker{dec: json.NewDecoder(bytes.NewReader(data)), o: o}
	w.dec.UseNumber() // numbers are not looked at; never fail converting one
	if err := w.value(t, 0); err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return &Error{Err: ErrTrailingData, Offset: w.dec.InputOffset()}
	}
	return nil
}

type walker struct {
	dec *json.Decoder
	o   Options
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value reads one value of type t (nil: any shape, duplicate keys only).
func (w *walker) value(t reflect.Type, depth int) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)) {
		t = nil // its own decoding: nothing to say about its keys
	}
	tok, err := w.dec.Token()
	if err != nil {
		return noEOF(err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a string, number, true, false or null
	}
	if depth >= MaxDepth {
		return &Error{Err: ErrTooDeep, Offset: w.dec.InputOffset()}
	}
	if d == '[' {
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for w.dec.More() {
			if err := w.value(elem, depth+1); err != nil {
				return err
			}
		}
		return w.end()
	}
	var fields *structFields
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = fieldsOf(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return noEOF(err)
		}
		key, _ := tok.(string) // the decoder gives only strings as keys
		if seen[key] {
			return &Error{Err: ErrDuplicateKey, Key: key, Offset: w.dec.InputOffset()}
		}
		seen[key] = true
		vt := elem
		if fields != nil {
			f, ok := fields.byName[key]
			switch {
			case ok:
				vt = f
			case fields.folded(key) != "":
				return &Error{Err: ErrFieldCase, Key: key, Field: fields.folded(key), Offset: w.dec.InputOffset()}
			case !w.o.AllowUnknown:
				return &Error{Err: ErrUnknownField, Key: key, Offset: w.dec.InputOffset()}
			default:
				vt = nil // ignored by encoding/json; still one meaning
			}
		}
		if err := w.value(vt, depth+1); err != nil {
			return err
		}
	}
	return w.end()
}

// end reads the closing delimiter.
func (w *walker) end() error {
	_, err := w.dec.Token()
	return noEOF(err)
}

// noEOF turns an end of input inside a value into the error
// encoding/json gives for it.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// structFields are the JSON names of a struct's fields as encoding/json
// resolves them, each with the field's type.
type structFields struct {
	byName map[string]reflect.Type
	names  []string
}

// folded returns the field name key matches without regard to case
// (strings.EqualFold, which is how encoding/json folds), or "".
func (s *structFields) folded(key string) string {
	for _, n := range s.names {
		if strings.EqualFold(n, key) {
			return n
		}
	}
	return ""
}
