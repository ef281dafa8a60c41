package campuscode

import "errors"

// Sentinel errors, one per response code. Every error Verify returns wraps
// exactly one of them (errors.Is works) and carries a reason label.
var (
	// ErrMalformed: not a campus code, bad Base45, wrong length or
	// version, invalid public key encoding. Answer Q1.
	ErrMalformed = errors.New("campuscode: malformed")
	// ErrBadSignature: issuer or user signature invalid. Answer Q2.
	ErrBadSignature = errors.New("campuscode: signature invalid")
	// ErrExpired: certificate outside its validity, code stale or from
	// the future beyond the allowed skew. Answer Q3.
	ErrExpired = errors.New("campuscode: expired or not yet valid")
	// ErrReplay: the code was accepted before. Used by the engine. Answer Q4.
	ErrReplay = errors.New("campuscode: already used")
	// ErrUnknownKey: issuer key unknown, revoked, outside its own
	// validity, or the algorithm is disabled. Answer Q5.
	ErrUnknownKey = errors.New("campuscode: issuer key unknown or revoked")
	// ErrInactive: the electronic card is not active yet. Used by the
	// engine. Answer Q6.
	ErrInactive = errors.New("campuscode: electronic card not active")

	// ErrConfig: NewVerifier refused the configuration.
	ErrConfig = errors.New("campuscode: invalid configuration")
)

// Error is a verification failure: the sentinel it wraps, the metrics
// reason and a fixed detail. It never holds input bytes, so it is safe to
// log; the values Verify returns are preallocated so that rejecting a code
// does not allocate.
type Error struct {
	Kind   error  // one of the sentinels above
	Reason string // bounded metrics label, see Reasons
	Detail string // fixed text, no input data
}

var _ error = (*Error)(nil)

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Kind.Error() + " (" + e.Reason + ")"
	}
	return e.Kind.Error() + " (" + e.Reason + "): " + e.Detail
}

func (e *Error) Unwrap() error { return e.Kind }

func newErr(kind error, reason, detail string) *Error {
	return &Error{Kind: kind, Reason: reason, Detail: detail}
}

// Reason labels. The set is closed: Reason never returns anything else.
const (
	ReasonOK              = "ok"
	ReasonMalformed       = "malformed"
	ReasonIssuerSignature = "issuer_signature"
	ReasonUserSignature   = "user_signature"
	ReasonCertExpired     = "cert_expired"
	ReasonStale           = "stale"
	ReasonFuture          = "future"
	ReasonReplay          = "replay"
	ReasonUnknownKey      = "unknown_key"
	ReasonRevokedKey      = "revoked_key"
	ReasonKeyExpired      = "key_expired"
	ReasonAlgDisabled     = "alg_disabled"
	ReasonInactive        = "inactive"
	ReasonOther           = "other"
)

// Reasons lists every label Reason can return, for pre-registering metric
// series.
func Reasons() []string {
	return []string{
		ReasonOK, ReasonMalformed, ReasonIssuerSignature, ReasonUserSignature,
		ReasonCertExpired, ReasonStale, ReasonFuture, ReasonReplay,
		ReasonUnknownKey, ReasonRevokedKey, ReasonKeyExpired, ReasonAlgDisabled,
		ReasonInactive, ReasonOther,
	}
}

// Preallocated failures returned by Parse and Verify.
var (
	errPrefix      = newErr(ErrMalformed, ReasonMalformed, "missing CC1: prefix")
	errB45Char     = newErr(ErrMalformed, ReasonMalformed, "base45: invalid character")
	errB45Len      = newErr(ErrMalformed, ReasonMalformed, "base45: invalid length")
	errB45Range    = newErr(ErrMalformed, ReasonMalformed, "base45: value out of range")
	errLength      = newErr(ErrMalformed, ReasonMalformed, "wrong payload length")
	errVersion     = newErr(ErrMalformed, ReasonMalformed, "unknown version")
	errAlgorithm   = newErr(ErrMalformed, ReasonMalformed, "unknown algorithm")
	errKeyLength   = newErr(ErrMalformed, ReasonMalformed, "wrong user key length for algorithm")
	errUserKey     = newErr(ErrMalformed, ReasonMalformed, "invalid user public key")
	errIssuerSig   = newErr(ErrBadSignature, ReasonIssuerSignature, "")
	errUserSig     = newErr(ErrBadSignature, ReasonUserSignature, "")
	errCertExpired = newErr(ErrExpired, ReasonCertExpired, "")
	errStale       = newErr(ErrExpired, ReasonStale, "")
	errFuture      = newErr(ErrExpired, ReasonFuture, "")
	errUnknownKey  = newErr(ErrUnknownKey, ReasonUnknownKey, "")
	errRevokedKey  = newErr(ErrUnknownKey, ReasonRevokedKey, "")
	errKeyExpired  = newErr(ErrUnknownKey, ReasonKeyExpired, "")
	errAlgDisabled = newErr(ErrUnknownKey, ReasonAlgDisabled, "")
)

// Reason maps err to its bounded metrics label: the Error's own reason,
// or for a bare sentinel its most general reason ("replay", "inactive",
// ...); nil is "ok" and anything foreign "other".
func Reason(err error) string {
	if err == nil {
		return ReasonOK
	}
	// A hand-rolled unwrap loop instead of errors.As: As needs a pointer
	// target, which escapes, and Reason runs once per request.
	for x := err; x != nil; x = errors.Unwrap(x) {
		if e, ok := x.(*Error); ok {
			return e.Reason
		}
	}
	switch {
	case errors.Is(err, ErrMalformed):
		return ReasonMalformed
	case errors.Is(err, ErrReplay):
		return ReasonReplay
	case errors.Is(err, ErrInactive):
		return ReasonInactive
	case errors.Is(err, ErrUnknownKey):
		return ReasonUnknownKey
	case errors.Is(err, ErrBadSignature):
		return ReasonUserSignature
	case errors.Is(err, ErrExpired):
		return ReasonStale
	}
	return ReasonOther
}

// ResponseCode maps err to the field 39 answer: "00" for nil, Q1–Q6 for
// the campus code failures, "96" (system malfunction) for anything else.
func ResponseCode(err error) string {
	switch {
	case err == nil:
		return "00"
	case errors.Is(err, ErrMalformed):
		return "Q1"
	case errors.Is(err, ErrBadSignature):
		return "Q2"
	case errors.Is(err, ErrExpired):
		return "Q3"
	case errors.Is(err, ErrReplay):
		return "Q4"
	case errors.Is(err, ErrUnknownKey):
		return "Q5"
	case errors.Is(err, ErrInactive):
		return "Q6"
	}
	return "96"
}
