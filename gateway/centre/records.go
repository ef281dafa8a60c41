package centre

import (
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// Effect is the money one journal record moves in the ledger of record:
// the account's balance and its small wallet, in fen (a debit is
// negative).
type Effect struct {
	Balance int64
	Wallet  int64
}

// RecordEffect is what a centre applies for a delivered record whose key
// it did not authorize online (docs/centre-api.md, "Records the centre
// applies"): every approved record of the gateway's own decision that
// moves campus money — a top-up (credit), an offline advice, a stand-in
// purchase, a fee (debits), a refund (credit), a small-wallet load (from
// the account to the wallet), the water consumed from the wallet. A
// reversal is not an effect of its own: it undoes its original. ok is
// false for a record that moves nothing: declined, no account, no
// positive amount, a payment by a third-party channel (the channel moved
// that money, not the campus account), or a kind that is no money
// movement (sign-in, inquiry, settlement...).
func RecordEffect(r *store.Record) (e Effect, ok bool) {
	if txn.RC(r.Resp) != txn.RCApproved || r.Account == 0 || r.Amount <= 0 {
		return Effect{}, false
	}
	campus := r.Channel == "" || r.Channel == store.ChannelCampus
	switch r.Kind {
	case store.KindPurchase, store.KindAdvice, store.KindFee:
		if !campus {
			return Effect{}, false
		}
		return Effect{Balance: -r.Amount}, true
	case store.KindRefund:
		if !campus {
			return Effect{}, false
		}
		return Effect{Balance: r.Amount}, true
	case store.KindTopUp:
		// Paid through a channel (or at a cash desk): the campus account
		// is credited whatever the channel.
		return Effect{Balance: r.Amount}, true
	case store.KindLoad:
		return Effect{Balance: -r.Amount, Wallet: r.Amount}, true
	case store.KindWater:
		return Effect{Wallet: -r.Amount}, true
	}
	return Effect{}, false
}
