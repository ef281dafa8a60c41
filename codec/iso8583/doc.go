// Package iso8583 is the campus profile of ISO 8583:1987 as the POS
// terminals speak it (China UnionPay POS dialect): BCD MTI, one 8-byte
// bitmap, and the fields of shared/spec/pos-protocol.md, nothing more.
//
// It is for the gateway's hot path. Decode fills a reused Message whose
// values alias the input (no allocation); encoders append to the caller's
// buffer, and setters copy into an arena the Message keeps across Reset,
// so a reused Message encodes without allocating either. Decoding is
// strict: anything the profile does not allow is a *FieldError naming the
// field and offset, never the value, because values include card numbers.
//
// It is not a general ISO 8583 library (no secondary bitmap, no other
// field layouts) and it knows nothing of what a message means: checking a
// MAC against a session, rules and answers are gateway/txn's.
package iso8583
