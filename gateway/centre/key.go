package centre

import (
	"fmt"
	"strconv"
	"strings"

	"ecardgw/store"
)

// KeyString is the text form of an idempotency key,
// "TERMINAL:BATCH:STAN:MTI" with batch and STAN as six digits and the MTI
// as four ("T0000001:000001:000042:0200"). It is the JetStream
// Nats-Msg-Id and the key the reference centre deduplicates by. Terminal
// ids never contain ':' (field 41 is alphanumeric), so the form is
// unambiguous.
func KeyString(k store.IdemKey) string {
	return fmt.Sprintf("%s:%06d:%06d:%04d", k.Terminal, k.Batch, k.STAN, k.MTI)
}

// ParseKey parses what KeyString wrote.
func ParseKey(s string) (store.IdemKey, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 4 || parts[0] == "" || len(parts[0]) > store.TerminalMax {
		return store.IdemKey{}, ErrBadKey
	}
	batch, err1 := strconv.ParseUint(parts[1], 10, 32)
	stan, err2 := strconv.ParseUint(parts[2], 10, 32)
	mti, err3 := strconv.ParseUint(parts[3], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil {
		return store.IdemKey{}, ErrBadKey
	}
	return store.IdemKey{Terminal: parts[0], Batch: uint32(batch), STAN: uint32(stan), MTI: uint16(mti)}, nil
}
