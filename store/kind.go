package store

// Kind is what a journal record or a transaction state is about: the
// request a terminal sent (purchase, refund, ...) or what the gateway did
// (a sign-in, a loss reported through the service API, an import). It is
// stored as its text: the constants below are the words the journal has
// always used.
type Kind string

// Kinds of requests from terminals (and, for a top-up or fee, from the
// service API too).
const (
	KindPurchase   Kind = "purchase"
	KindRefund     Kind = "refund"
	KindReversal   Kind = "reversal"
	KindInquiry    Kind = "inquiry"
	KindSync       Kind = "sync"    // a card's first tap (0100/330000)
	KindHistory    Kind = "history" // a kiosk's history (0100/300000)
	KindLoad       Kind = "load"    // a small-wallet load
	KindTopUp      Kind = "topup"
	KindFee        Kind = "fee"
	KindAdvice     Kind = "advice" // a purchase made offline (0220)
	KindSettlement Kind = "settlement"
	KindOther      Kind = "other" // a request of no known kind
)

// Kinds of records the gateway writes on its own.
const (
	KindWater      Kind = "water"       // the water consumed since a wallet's last load, journaled with the load
	KindSignIn     Kind = "signin"      // a terminal's sign-in
	KindLoss       Kind = "loss"        // a card reported lost
	KindLossCancel Kind = "loss-cancel" // a loss report cancelled
	KindImport     Kind = "import"      // an account import
)
