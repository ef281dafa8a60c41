package metrics

// Parse helpers map the label text another package already uses (an
// engine reason string) to the enum, with "other" for anything unknown.
// They compare against the fixed name tables: no map, no allocation, so
// they can sit on the request path.

// ParseDecodeReason maps a decode reason label value ("too_large", ...).
func ParseDecodeReason(s string) DecodeReason { return DecodeReason(index(decodeReasonNames[:], s)) }

// ParseCampusCodeResult maps a campus code result label value ("ok",
// "replay", ...).
func ParseCampusCodeResult(s string) CampusCodeResult {
	return CampusCodeResult(index(campusCodeResultNames[:], s))
}

// ParsePaymentOutcome maps a payment outcome label value ("approved", ...).
func ParsePaymentOutcome(s string) PaymentOutcome {
	return PaymentOutcome(index(paymentOutcomeNames[:], s))
}

// index finds s in names, whose last entry is "other"; unknown text maps
// to that last index.
func index(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return len(names) - 1
}
