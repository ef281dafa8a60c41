package store

import (
	"fmt"
	"time"
)

// Status is an account's state.
type Status uint8

// Account states. Only active accounts may spend; frozen is an
// administrative block, lost is the card reported lost (blacklisted),
// cancelled is closed for good.
const (
	StatusActive Status = iota
	StatusFrozen
	StatusLost
	StatusCancelled
	statusCount
)

var statusNames = [...]string{"active", "frozen", "lost", "cancelled"}

func (s Status) String() string {
	if s < statusCount {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus parses "active", "frozen", "lost" or "cancelled".
func ParseStatus(s string) (Status, error) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown status %q", ErrBadValue, s)
}

// Wallet is the card's small wallet (showers, hot water) as last seen.
type Wallet struct {
	Balance         int64
	Counter         uint16 // online counter: one past the last load's; only ever moves forward
	LastLoadBalance int64  // balance right after the last load
	Loaded          bool   // the 10.00 pre-charge has been made
	LastLoadAt      time.Time
	// LastLoad is the last approved load (zero: none known).
	LastLoad IdemKey
	// Reversed is the last load if it was reversed and no later load has
	// shown yet whether the card applied it.
	Reversed *ReversedLoad
}

// ReversedLoad is a reversed small-wallet load whose fate the next load
// tells: it comes at the reversed load's counter (the card did not take
// it) or at a higher one (it did, and the account is debited again).
type ReversedLoad struct {
	Key     IdemKey
	Counter uint16 // the online counter the load used
	Amount  int64
}

// MaxBalanceFen bounds every balance, either way: 999,999,999,999 fen,
// the most the 12 digits of an answer's field 54 can show. Money is only
// ever added with a check against it (gateway/ledger), so no sum can wrap
// around int64; an account beyond it is refused (ErrBadValue) rather
// than stored.
const MaxBalanceFen = 999_999_999_999

// Account is one person's campus account and card.
type Account struct {
	No         uint64
	Name       string
	StaffNo    string
	CardNumber string // 12 digits printed on the card (last 12 of the serial)
	CardSerial string // 20 digits, application serial number
	CardUID    []byte
	BalanceFen int64
	Status     Status
	// ECardActive: the electronic card was activated by a first-tap sync.
	ECardActive bool
	Wallet      Wallet
	DayFen      int64  // spent on Day, for the optional daily limit
	Day         string // YYYYMMDD, UTC
	Updated     time.Time
	// LastSeq is the account's newest journal record; each record links to
	// the one before it (Record.PrevSeq), so a person's history is read
	// without a separate index. The store maintains it: AppendJournal sets
	// it, and PutAccount never moves it backwards.
	LastSeq uint64
}

// Versions: 2 ends at LastSeq; 3 adds the wallet's last load and pending
// reversed load. Version 2 values are read as they are.
const (
	accountV2 = 2
	accountV3 = 3
)

func (e *enc) account(a *Account) {
	e.u8(accountV3)
	e.u64(a.No)
	e.str(a.Name)
	e.str(a.StaffNo)
	e.str(a.CardNumber)
	e.str(a.CardSerial)
	e.bytes(a.CardUID)
	e.i64(a.BalanceFen)
	e.u8(uint8(a.Status))
	e.bool(a.ECardActive)
	e.i64(a.Wallet.Balance)
	e.u16(a.Wallet.Counter)
	e.i64(a.Wallet.LastLoadBalance)
	e.bool(a.Wallet.Loaded)
	e.time(a.Wallet.LastLoadAt)
	e.i64(a.DayFen)
	e.str(a.Day)
	e.time(a.Updated)
	e.u64(a.LastSeq)
	e.optKey(a.Wallet.LastLoad)
	e.bool(a.Wallet.Reversed != nil)
	if r := a.Wallet.Reversed; r != nil {
		e.optKey(r.Key)
		e.u16(r.Counter)
		e.i64(r.Amount)
	}
}

// optKey appends an idempotency key, or an empty one for the zero key.
func (e *enc) optKey(k IdemKey) {
	if k == (IdemKey{}) {
		e.bytes(nil)
		return
	}
	b, err := k.appendKey(nil)
	if err != nil && e.err == nil {
		e.err = err
	}
	e.bytes(b)
}

func (d *dec) optKey() IdemKey {
	b := d.bytes()
	if len(b) == 0 {
		return IdemKey{}
	}
	k, err := parseIdemKey(b)
	if err != nil {
		d.bad = true
	}
	return k
}

// appendAccount appends the stored encoding of a.
func appendAccount(dst []byte, a *Account) ([]byte, error) {
	e := enc{b: dst}
	e.account(a)
	return e.b, e.err
}

// decodeAccount decodes a stored account; ErrCorruptValue on bad bytes.
func decodeAccount(b []byte, a *Account) error {
	d := dec{b: b}
	v := d.u8()
	if v != accountV2 && v != accountV3 {
		d.bad = true
	}
	*a = Account{
		No:          d.u64(),
		Name:        d.str(),
		StaffNo:     d.str(),
		CardNumber:  d.str(),
		CardSerial:  d.str(),
		CardUID:     d.bytes(),
		BalanceFen:  d.i64(),
		Status:      Status(d.u8()),
		ECardActive: d.bool(),
	}
	a.Wallet = Wallet{
		Balance:         d.i64(),
		Counter:         d.u16(),
		LastLoadBalance: d.i64(),
		Loaded:          d.bool(),
		LastLoadAt:      d.time(),
	}
	a.DayFen = d.i64()
	a.Day = d.str()
	a.Updated = d.time()
	a.LastSeq = d.u64()
	if v == accountV3 {
		a.Wallet.LastLoad = d.optKey()
		if d.bool() {
			a.Wallet.Reversed = &ReversedLoad{Key: d.optKey(), Counter: d.u16(), Amount: d.i64()}
		}
	}
	if a.Status >= statusCount {
		d.bad = true
	}
	return d.done()
}
