package service

import (
	"errors"
	"net/http"
)

// Sentinel errors of the server's life cycle.
var (
	// ErrStarted is returned by Start on a server already started.
	ErrStarted = errors.New("service: already started")
	// ErrNoStore is returned by Start when Options.DB is nil.
	ErrNoStore = errors.New("service: no store")
	// ErrNoTokens is returned by Start when Options.Tokens is nil: the API
	// never runs unauthenticated.
	ErrNoTokens = errors.New("service: no token check configured")
)

// Error codes of the JSON error body. They are part of the API contract:
// clients branch on them, so they never change meaning.
const (
	CodeUnauthorized = "unauthorized" // 401: missing or wrong bearer token
	CodeBadRequest   = "bad_request"  // 400 (also 405, 413, 415): the request is malformed
	CodeNotFound     = "not_found"    // 404: no such account or endpoint
	CodeConflict     = "conflict"     // 409: the id was used for a different request; a card belongs to another account
	CodeLimit        = "limit"        // 422: amount out of range
	CodeInsufficient = "insufficient" // 422: the balance does not cover the payment
	CodeFrozen       = "frozen"       // 422: the account may not do this (frozen, cancelled, lost)
	CodeReadOnly     = "read_only"    // 403: connected mode, the card centre owns writes
	CodeInternal     = "internal"     // 500: the store failed; nothing was changed
)

// apiError is an answer other than success. Message never holds a card
// number, token or request value; Rows lists the bad lines of an import.
type apiError struct {
	Status  int          `json:"-"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Rows    []rowProblem `json:"rows,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// rowProblem is one refused cell or row of an imported file.
type rowProblem struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

func badRequest(msg string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: msg}
}

func notFound(msg string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: CodeNotFound, Message: msg}
}

func conflict(msg string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: CodeConflict, Message: msg}
}

func unprocessable(code, msg string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: code, Message: msg}
}

var (
	errUnauthorized = &apiError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "a valid bearer token is required"}
	errReadOnly     = &apiError{Status: http.StatusForbidden, Code: CodeReadOnly, Message: "connected mode: the card centre owns this change"}
	errInternal     = &apiError{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error; nothing was changed"}
	errTooLarge     = &apiError{Status: http.StatusRequestEntityTooLarge, Code: CodeBadRequest, Message: "request body too large"}
)
