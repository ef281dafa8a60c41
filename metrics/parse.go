package metrics

// Parse helpers map the label text another package already uses (an
// engine reason string, field 39 as a string) to the enum, with "other"
// for anything unknown. They compare against the fixed name tables: no
// map, no allocation, so they can sit on the request path.

// ParseRespCode maps a field 39 value held as a string.
func ParseRespCode(s string) RespCode { return RespCode(index(respCodeNames[:], s)) }

// ParseChannel maps a field 44 value held as a string (CAMPUS, ALIPAY,
// WECHAT, UNIONPAY) or a label value (campus, alipay, ...).
func ParseChannel(s string) Channel {
	if c := ClassifyChannel([]byte(s)); c != ChannelOther {
		return c
	}
	return Channel(index(channelNames[:], s))
}

// ParseCloseReason maps a close reason label value ("eof", "idle", ...).
func ParseCloseReason(s string) CloseReason { return CloseReason(index(closeReasonNames[:], s)) }

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
