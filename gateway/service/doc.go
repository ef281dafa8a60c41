// Package service is the gateway's self-service HTTP/JSON API for the
// WeChat enterprise app and mini-program back end in standalone mode:
// balance and paged history, top-up credit after a confirmed channel
// payment, reporting a card lost and cancelling that, network and
// electricity fee payment, account import and the blacklist.
//
// Every call carries a bearer token from the key file. Every call that
// changes something is journaled in the same store transaction as the
// change, and the answer is written only after that transaction is on
// disk. Top-ups and fee payments are idempotent by the caller's id (the
// channel trade number, the request id): a retry gets the original answer
// and money never moves twice. A reported loss puts the card on the
// blacklist in the same transaction and tells the transaction engine
// (Options.OnBlacklist), so the next purchase with that card at any
// terminal is declined 41 and terminals are asked to download the list.
// In connected mode (Options.ReadOnly) the card centre owns these changes
// and every write answers 403 read_only.
//
// docs/service-api.md is the integrator's guide and
// docs/service-openapi.yaml the machine-readable contract.
//
// It is not the channel's payment interface (the gateway never holds
// WeChat or Alipay credentials: a top-up is credited only after the caller
// confirmed the payment), not the admin listener (gateway/admin), and it
// does not decide POS transactions (gateway/txn).
package service
