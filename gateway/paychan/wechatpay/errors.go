package wechatpay

import "errors"

// The package's sentinel errors.
var (
	// ErrOptions: the adapter is configured wrongly.
	ErrOptions = errors.New("wechatpay: bad options")
	// ErrMessage: a body is not a flat <xml> message.
	ErrMessage = errors.New("wechatpay: malformed message")
	// ErrSignature: an answer or notification is not signed with our API
	// key. Nothing in it is trusted.
	ErrSignature = errors.New("wechatpay: bad signature")
	// ErrMismatch: a signed answer is about another trade, amount or
	// merchant.
	ErrMismatch = errors.New("wechatpay: answer does not match the request")
	// ErrRefused: WeChat refused the call itself (return_code FAIL) or a
	// reversal.
	ErrRefused = errors.New("wechatpay: refused")
)
