package alipay

import "errors"

// The package's sentinel errors.
var (
	// ErrOptions: the adapter is configured wrongly.
	ErrOptions = errors.New("alipay: bad options")
	// ErrMessage: a body is not an answer or notification of the
	// documented shape.
	ErrMessage = errors.New("alipay: malformed message")
	// ErrSignature: an answer or notification does not verify with the
	// Alipay public key. Nothing in it is trusted.
	ErrSignature = errors.New("alipay: bad signature")
	// ErrMismatch: a verified answer is about another trade or amount.
	ErrMismatch = errors.New("alipay: answer does not match the request")
	// ErrRefused: Alipay refused the call itself (40001, 40002, 40006 …)
	// or a cancellation.
	ErrRefused = errors.New("alipay: refused")
)
