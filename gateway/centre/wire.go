package centre

import (
	"time"

	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// The JSON bodies of the centre interface, shared by this client and the
// reference centre so that the two cannot drift apart. Field names are
// snake_case; money is integer fen; times are RFC 3339 UTC.

// WireKey is an idempotency key on the wire.
type WireKey struct {
	Terminal string `json:"terminal"`
	Batch    uint32 `json:"batch"`
	STAN     uint32 `json:"stan"`
	MTI      uint16 `json:"mti"`
}

// ToWireKey converts a store key.
func ToWireKey(k store.IdemKey) WireKey {
	return WireKey{Terminal: k.Terminal, Batch: k.Batch, STAN: k.STAN, MTI: k.MTI}
}

// IdemKey converts back to a store key.
func (k WireKey) IdemKey() store.IdemKey {
	return store.IdemKey{Terminal: k.Terminal, Batch: k.Batch, STAN: k.STAN, MTI: k.MTI}
}

// WireAuthRequest is the body of POST /v1/authorize.
type WireAuthRequest struct {
	Key        WireKey           `json:"key"`
	Kind       store.Kind        `json:"kind"`
	Account    uint64            `json:"account,omitempty"`
	Card       string            `json:"card,omitempty"`
	Amount     int64             `json:"amount"`
	Channel    store.Channel     `json:"channel,omitempty"`
	Orig       *WireKey          `json:"orig,omitempty"`
	Time       time.Time         `json:"time"`
	Terminal   string            `json:"terminal,omitempty"`
	Merchant   string            `json:"merchant,omitempty"`
	Location   string            `json:"location,omitempty"`
	CampusCode bool              `json:"campus_code,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// WireAuthResult is the answer to POST /v1/authorize.
type WireAuthResult struct {
	RC          txn.RC `json:"rc"`
	Account     uint64 `json:"account"`
	BalanceFen  int64  `json:"balance_fen"`
	WalletFen   int64  `json:"wallet_fen"`
	Status      string `json:"status"`
	ECardActive bool   `json:"ecard_active"`
	// Version is the account's version after the op (as GET /v1/accounts
	// numbers them; 0 when the centre does not say): the gateway keeps
	// the newer of this answer and a snapshot in its replica.
	Version uint64 `json:"version,omitempty"`
}

// WirePayRequest is the body of POST /v1/payments/pay.
type WirePayRequest struct {
	TradeNo  string        `json:"trade_no"`
	Channel  store.Channel `json:"channel"`
	AuthCode string        `json:"auth_code"`
	Amount   int64         `json:"amount"`
	Subject  string        `json:"subject,omitempty"`
	Terminal string        `json:"terminal,omitempty"`
	Account  uint64        `json:"account,omitempty"`
}

// WireTradeRequest is the body of query and cancel.
type WireTradeRequest struct {
	TradeNo string `json:"trade_no"`
}

// WireRefundRequest is the body of POST /v1/payments/refund.
type WireRefundRequest struct {
	TradeNo  string `json:"trade_no"`
	RefundNo string `json:"refund_no"`
	Amount   int64  `json:"amount"`
}

// Payment statuses on the wire.
const (
	PayStatusPaid      = "paid"
	PayStatusPaying    = "paying"
	PayStatusNotBound  = "not_bound"
	PayStatusDeclined  = "declined"
	PayStatusCancelled = "cancelled"
	PayStatusRefunded  = "refunded"
)

// WirePayResult is the answer of every payment call.
type WirePayResult struct {
	TradeNo    string `json:"trade_no"`
	Status     string `json:"status"`
	ChannelTxn string `json:"channel_txn,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// WireAccount is one account of the snapshot.
type WireAccount struct {
	No          uint64 `json:"no"`
	Name        string `json:"name"`
	StaffNo     string `json:"staff_no"`
	CardNumber  string `json:"card_number"`
	CardSerial  string `json:"card_serial"`
	BalanceFen  int64  `json:"balance_fen"`
	WalletFen   int64  `json:"wallet_fen"`
	Status      string `json:"status"`
	ECardActive bool   `json:"ecard_active"`
	Version     uint64 `json:"version"`
}

// WireAccountsPage is the answer to GET /v1/accounts.
type WireAccountsPage struct {
	Accounts []WireAccount `json:"accounts"`
	// Version is the centre's account version when the page was read:
	// once a page says more is false, the caller holds every change up to
	// it.
	Version uint64 `json:"version"`
	More    bool   `json:"more"`
}

// WireBlacklistEntry is one change of the blacklist.
type WireBlacklistEntry struct {
	Version uint32 `json:"version"`
	Card    string `json:"card"`
	Add     bool   `json:"add"`
}

// WireBlacklistPage is the answer to GET /v1/blacklist.
type WireBlacklistPage struct {
	Entries []WireBlacklistEntry `json:"entries"`
	Version uint32               `json:"version"`
	More    bool                 `json:"more"`
}

// WireRecord is one journal record on the wire.
type WireRecord struct {
	Seq          uint64        `json:"seq"`
	Time         time.Time     `json:"time"`
	Key          WireKey       `json:"key"`
	Kind         store.Kind    `json:"kind"`
	ProcCode     uint32        `json:"proc_code"`
	Account      uint64        `json:"account,omitempty"`
	CardMasked   string        `json:"card_masked,omitempty"`
	Channel      store.Channel `json:"channel,omitempty"`
	Amount       int64         `json:"amount"`
	Resp         string        `json:"resp"`
	RRN          string        `json:"rrn,omitempty"`
	Auth         string        `json:"auth,omitempty"`
	BalanceAfter int64         `json:"balance_after"`
	Orig         *WireKey      `json:"orig,omitempty"`
	Exception    bool          `json:"exception,omitempty"`
	StandIn      bool          `json:"stand_in,omitempty"`
	Location     string        `json:"location,omitempty"`
	Note         string        `json:"note,omitempty"`
}

// ToWireRecord converts a journal record.
func ToWireRecord(r *store.Record) WireRecord {
	w := WireRecord{
		Seq: r.Seq, Time: r.Time.UTC(), Key: ToWireKey(r.Key), Kind: r.Kind, ProcCode: r.ProcCode,
		Account: r.Account, CardMasked: r.CardMasked, Channel: r.Channel, Amount: r.Amount,
		Resp: r.Resp, RRN: r.RRN, Auth: r.Auth, BalanceAfter: r.BalanceAfter,
		Exception: r.Exception, StandIn: r.StandIn, Location: r.Location, Note: r.Note,
	}
	if r.Orig != nil {
		o := ToWireKey(*r.Orig)
		w.Orig = &o
	}
	return w
}

// Record converts back to a journal record.
func (w *WireRecord) Record() store.Record {
	r := store.Record{
		Seq: w.Seq, Time: w.Time.UTC(), Key: w.Key.IdemKey(), Kind: w.Kind, ProcCode: w.ProcCode,
		Account: w.Account, CardMasked: w.CardMasked, Channel: w.Channel, Amount: w.Amount,
		Resp: w.Resp, RRN: w.RRN, Auth: w.Auth, BalanceAfter: w.BalanceAfter,
		Exception: w.Exception, StandIn: w.StandIn, Location: w.Location, Note: w.Note,
	}
	if w.Orig != nil {
		o := w.Orig.IdemKey()
		r.Orig = &o
	}
	return r
}

// WireRecords is the body of POST /v1/records.
type WireRecords struct {
	Records []WireRecord `json:"records"`
}

// WireDeliveryResult is the centre's verdict on one delivered record.
type WireDeliveryResult struct {
	Seq uint64 `json:"seq"`
	OK  bool   `json:"ok"`
	// Applied: the record changed the centre's ledger (it was not
	// authorized online); the gateway then refreshes its replica soon.
	Applied   bool   `json:"applied,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// WireDeliveryResults is the answer to POST /v1/records: one result per
// record, in the order sent.
type WireDeliveryResults struct {
	Results []WireDeliveryResult `json:"results"`
}

// WireOp is what the centre did for one idempotency key: authorized it
// online or applied (or only acknowledged) its delivered record. The
// answer of GET /v1/ops lists them for reconciliation.
type WireOp struct {
	Key     string     `json:"key"` // the key's text form (KeyString)
	Kind    store.Kind `json:"kind"`
	Account uint64     `json:"account,omitempty"`
	Amount  int64      `json:"amount"`
	RC      txn.RC     `json:"rc"`
	// Delta and Wallet are what the op moved: the account's balance and
	// its small wallet (a debit is negative; 0 for a reversal, which
	// moves its original's money back).
	Delta    int64     `json:"delta"`
	Wallet   int64     `json:"wallet"`
	Reversed bool      `json:"reversed,omitempty"` // undone since by a reversal
	Source   string    `json:"source"`             // "auth" or "record"
	Time     time.Time `json:"time"`               // the transaction's time
}

// WireOpsPage is the answer to GET /v1/ops: the ops whose time is in
// [from, to), ordered by key, after the key "after". While more is true,
// ask again with after = the last op's key.
type WireOpsPage struct {
	Ops  []WireOp `json:"ops"`
	More bool     `json:"more"`
}

// WireError is the body of every 4xx and 5xx answer.
type WireError struct {
	Error string `json:"error"`
}

// Paths of the interface, relative to the centre's base URL.
const (
	PathAuthorize = "/v1/authorize"
	PathPay       = "/v1/payments/pay"
	PathQuery     = "/v1/payments/query"
	PathCancel    = "/v1/payments/cancel"
	PathRefund    = "/v1/payments/refund"
	PathAccounts  = "/v1/accounts"
	PathBlacklist = "/v1/blacklist"
	PathRecords   = "/v1/records"
	PathOps       = "/v1/ops"
)

// MaxPage bounds a snapshot or blacklist page and MaxDelivery a record
// batch; the reference centre refuses larger requests with 400.
const (
	MaxPage     = 1000
	MaxDelivery = 1000
)
