package txn

import (
	"crypto/subtle"

	"ecardgw/gateway/logging"
)

func constEq(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// maskCard masks a card number for the journal and logs.
func maskCard(digits []byte) string { return logging.MaskPAN(string(digits)) }
