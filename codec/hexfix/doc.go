// Package hexfix reads annotated hex fixtures (testdata/frames/*.txt): hex
// digits are the bytes, whitespace is ignored, and '#' starts a comment
// that runs to the end of the line, so a person can name every field.
//
// It is for tests and fuzz seeds only, not for anything on the wire. It
// sits outside codec/internal so that tests of other packages (the
// engine's golden test in gateway/txn) can read the same fixtures.
package hexfix
