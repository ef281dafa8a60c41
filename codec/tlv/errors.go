package tlv

import "errors"

// ErrTruncated: an item's tag, length or value runs past the end of the
// data. Field 55 comes from the terminal, so this is a format error (30).
var ErrTruncated = errors.New("tlv: truncated item")
