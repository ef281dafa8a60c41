package txn

import "ecardgw/gateway/logging"

// maskCard masks a card number for the journal and logs.
func maskCard(digits []byte) string { return logging.MaskPAN(string(digits)) }
