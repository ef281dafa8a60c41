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
	Counter         uint16 // online counter
	LastLoadBalance int64  // balance right after the last load
	Loaded          bool   // the 10.00 pre-charge has been made
	LastLoadAt      time.Time
}

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

const accountV2 = 2

func (e *enc) account(a *Account) {
	e.u8(accountV2)
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
	d.version(accountV2)
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
	if a.Status >= statusCount {
		d.bad = true
	}
	return d.done()
}
