package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"ecardgw/gateway/logging"
	"ecardgw/gateway/strictjson"
)

// decodeJSON reads one JSON object into v: the body is bounded, and
// strictjson refuses a key in another case than its field's name, a key
// given twice, an unknown field and trailing data, so that a body has
// one meaning only (encoding/json alone would credit 500 for
// {"amount_fen":1,"AMOUNT_FEN":500}). Every error names the field or
// byte offset but never quotes a value (a card number may be in it).
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := wantMedia(r, "application/json"); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		return badRequest("the body could not be read")
	}
	if err := strictjson.Unmarshal(body, v, strictjson.Options{}); err != nil {
		return jsonError(err)
	}
	return nil
}

func jsonError(err error) error {
	var (
		strict *strictjson.Error
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &strict):
		switch {
		case errors.Is(err, strictjson.ErrFieldCase):
			return badRequest(fmt.Sprintf("field %q must be spelled %q: field names are case-sensitive", safeName(strict.Key), strict.Field))
		case errors.Is(err, strictjson.ErrDuplicateKey):
			return badRequest(fmt.Sprintf("field %q appears twice", safeName(strict.Key)))
		case errors.Is(err, strictjson.ErrUnknownField):
			return badRequest(fmt.Sprintf("unknown field %q", safeName(strict.Key)))
		case errors.Is(err, strictjson.ErrTrailingData):
			return badRequest("trailing data after the JSON object")
		}
		return badRequest("the JSON is nested too deeply")
	case errors.As(err, &syntax):
		return badRequest(fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" || typ.Type == nil {
			return badRequest("the body must be a JSON object")
		}
		return badRequest(fmt.Sprintf("field %q must be %s", safeName(typ.Field), jsonKind(typ.Type.Kind().String())))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the body is empty or truncated")
	}
	return badRequest("malformed JSON")
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case k == "string":
		return "a string"
	case k == "bool":
		return "true or false"
	}
	return "of another type"
}

// safeName bounds a field name taken from the request and masks anything
// that looks like a card number, since names come from the client.
func safeName(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return logging.Sanitize(strings.ToValidUTF8(s, "?"))
}

// wantMedia refuses a body of another media type (415).
func wantMedia(r *http.Request, want string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
			Message: "Content-Type must be " + want}
	}
	return nil
}

// maxAccountDigits: account numbers are at most 16 digits (the accounts
// file's rule), which is why they travel as JSON strings: 16 digits do not
// fit a JavaScript number exactly.
const maxAccountDigits = 16

// parseAccount reads an account number: 1 to 16 digits, not 0.
func parseAccount(field, s string) (uint64, error) {
	if s == "" || len(s) > maxAccountDigits || !allDigits(s) {
		return 0, badRequest(fmt.Sprintf("%s must be an account number of 1 to %d digits", field, maxAccountDigits))
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, badRequest(field + " must be a positive account number")
	}
	return n, nil
}

// queryUint reads an optional unsigned query parameter (def when absent);
// want says what it must be, for the error.
func queryUint(r *http.Request, name string, def, max uint64, want string) (uint64, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return def, nil
	}
	v := q.Get(name)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || !allDigits(v) || n > max {
		return 0, badRequest(fmt.Sprintf("query parameter %s must be %s", name, want))
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// printable reports whether s is 1..max printable ASCII characters without
// spaces (trade numbers and request ids).
func printable(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
