package logging

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
)

// action is what Handler does to an attribute because of its key.
type action uint8

const (
	keep   action = iota
	redact        // replace the value by Redacted
	mask          // mask the value as a card number (MaskPAN)
)

// deny maps lower-case attribute keys to what is done with their values.
// Keys are redacted whatever their value looks like: a key in binary or
// base64 would slip through the hex rule of Sanitize.
var deny = map[string]action{
	"key": redact, "keys": redact, "mak": redact, "pik": redact, "tmk": redact,
	"kek": redact, "tak": redact, "storage_key": redact, "session_key": redact,
	"private_key": redact, "issuer_key": redact, "master_key": redact,
	"frame": redact, "raw": redact, "mab": redact, "password": redact,
	"secret": redact, "token": redact, "track2": redact, "pin": redact, "pin_block": redact,
	"pan": mask, "card": mask, "card_no": mask, "card_number": mask, "cardno": mask,
	"account": mask, "account_no": mask,
}

// Handler wraps another slog.Handler and cleans every record before it
// reaches it: see Sanitize for messages and strings, deny for keys. []byte
// values are logged as their length only: bytes in a log line are a frame,
// a key or a cryptogram far more often than anything an operator needs.
type Handler struct {
	inner     slog.Handler
	redactAll bool // inside a group whose name is denied: redact every value
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler wraps inner in the masking safety net.
func NewHandler(inner slog.Handler) *Handler { return &Handler{inner: inner} }

// Enabled defers to the wrapped handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

// Handle cleans the message and attributes, then passes the record on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, Sanitize(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(h.clean(a))
		return true
	})
	return h.inner.Handle(ctx, nr)
}

// WithAttrs cleans the attributes once, when they are attached.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	cleaned := make([]slog.Attr, len(as))
	for i, a := range as {
		cleaned[i] = h.clean(a)
	}
	return &Handler{inner: h.inner.WithAttrs(cleaned), redactAll: h.redactAll}
}

// WithGroup opens a group; a group named like a secret redacts all it holds.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{
		inner:     h.inner.WithGroup(name),
		redactAll: h.redactAll || deny[strings.ToLower(name)] == redact,
	}
}

func (h *Handler) clean(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	act := deny[strings.ToLower(a.Key)]
	if h.redactAll {
		act = redact
	}
	if a.Value.Kind() == slog.KindGroup {
		return h.cleanGroup(a, act)
	}
	switch act {
	case redact:
		return slog.String(a.Key, Redacted)
	case mask:
		return slog.String(a.Key, maskValue(a.Value))
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); needsSanitize(s) {
			return slog.String(a.Key, Sanitize(s))
		}
	case slog.KindInt64:
		// A card number passed as a number: 12+ digits is never an amount
		// in fen the gateway handles (that would be a billion yuan).
		if v := a.Value.Int64(); v >= 1e11 || v <= -1e11 {
			return slog.String(a.Key, Sanitize(strconv.FormatInt(v, 10)))
		}
	case slog.KindUint64:
		if v := a.Value.Uint64(); v >= 1e11 {
			return slog.String(a.Key, Sanitize(strconv.FormatUint(v, 10)))
		}
	case slog.KindAny:
		return slog.Attr{Key: a.Key, Value: cleanAny(a.Value.Any())}
	}
	return a
}

func (h *Handler) cleanGroup(a slog.Attr, act action) slog.Attr {
	inner := *h
	if act == redact {
		inner.redactAll = true
	}
	attrs := a.Value.Group()
	cleaned := make([]slog.Attr, len(attrs))
	for i, g := range attrs {
		if act == mask {
			g.Value = slog.StringValue(maskValue(g.Value.Resolve()))
			cleaned[i] = g
			continue
		}
		cleaned[i] = inner.clean(g)
	}
	return slog.Attr{Key: a.Key, Value: slog.GroupValue(cleaned...)}
}

// maskValue renders a card-number attribute masked, unless it already is
// (it carries a '*' and nothing Sanitize would still catch).
func maskValue(v slog.Value) string {
	var s string
	switch v.Kind() {
	case slog.KindString:
		s = v.String()
	case slog.KindAny:
		if b, ok := v.Any().([]byte); ok {
			s = string(b)
		} else {
			s = fmt.Sprint(v.Any())
		}
	default:
		s = v.String()
	}
	if strings.IndexByte(s, '*') >= 0 && !needsSanitize(s) {
		return s
	}
	return MaskPAN(s)
}

// cleanAny turns values the inner handler would format itself (errors,
// Stringers, structs) into sanitized strings, so a card number inside an
// error text or a struct field does not bypass the net.
func cleanAny(v any) slog.Value {
	switch x := v.(type) {
	case nil:
		return slog.AnyValue(nil)
	case []byte:
		return slog.StringValue("[" + strconv.Itoa(len(x)) + " bytes]")
	case error:
		return slog.StringValue(Sanitize(x.Error()))
	case fmt.Stringer:
		return slog.StringValue(Sanitize(x.String()))
	}
	// Named byte types (a Key []byte, a [16]byte) would print as decimal
	// numbers, which no text rule recognises: log their length only.
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) &&
		rv.Type().Elem().Kind() == reflect.Uint8 {
		return slog.StringValue("[" + strconv.Itoa(rv.Len()) + " bytes]")
	}
	return slog.StringValue(Sanitize(fmt.Sprintf("%+v", v)))
}
