package pboc

import "errors"

// ErrSerialLength reports an application serial number that is not the
// 10 BCD bytes the card stores; deriving a key from anything else would
// silently produce a key no card holds.
var ErrSerialLength = errors.New("pboc: application serial number must be 10 bytes")
