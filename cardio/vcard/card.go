package vcard

import (
	"crypto/rand"
	"fmt"
	"io"
	"sync"
	"time"

	"ecardgw/cardio/campuscard"
	"ecardgw/cardio/pboc"
)

// WalletLimit is the small wallet's limit in fen (10.00 yuan).
const WalletLimit = 1000

// Config describes one card. Zero values get the defaults noted.
type Config struct {
	Info       campuscard.AppInfo
	Holder     campuscard.Holder
	UID        []byte    // contactless UID; default 4 bytes from the serial
	LoadKey    [16]byte  // this card's load key (pboc.DeriveCardKey of the master)
	KeyIndex   byte      // load key index the card accepts; default 1
	KeyVersion byte      // reported in INITIALIZE FOR LOAD
	AlgID      byte      // reported in INITIALIZE FOR LOAD
	Balance    int64     // initial wallet balance, fen
	Counter    uint16    // initial online counter
	WaterTerm  [6]byte   // terminal number recorded by Spend
	Rand       io.Reader // card randoms; default crypto/rand
	Now        func() time.Time
	ATR        []byte // default DefaultATR
}

// DefaultATR is a T=1 ATR whose historical bytes read "ECARD": TS 3B,
// T0 85 (TD1, 5 historical bytes), TD1 80 (TD2, T=0), TD2 01 (T=1), TCK.
var DefaultATR = withTCK([]byte{0x3B, 0x85, 0x80, 0x01, 'E', 'C', 'A', 'R', 'D'})

// withTCK appends the check byte: the XOR of every byte after TS.
func withTCK(atr []byte) []byte {
	var x byte
	for _, b := range atr[1:] {
		x ^= b
	}
	return append(atr, x)
}

// Card is the virtual card. All methods are safe for concurrent use: a
// test may Spend while the card is in a reader.
type Card struct {
	cfg Config

	mu       sync.Mutex
	selected bool
	pending  *pendingLoad
	balance  int64
	online   uint16
	offline  uint16
	log      []campuscard.LogRecord // newest first, at most campuscard.MaxLog
	appInfo  []byte
	holder   []byte

	slot slot
}

type pendingLoad struct {
	amount  uint32
	term    [6]byte
	sk      [8]byte
	balance uint32
}

// New builds a card from cfg.
func New(cfg Config) (*Card, error) {
	if cfg.Balance < 0 || cfg.Balance > WalletLimit {
		return nil, fmt.Errorf("%w: balance %d", ErrConfig, cfg.Balance)
	}
	if cfg.KeyIndex == 0 {
		cfg.KeyIndex = 1
	}
	if cfg.UID == nil {
		cfg.UID = append([]byte(nil), cfg.Info.Serial[6:]...)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ATR == nil {
		cfg.ATR = DefaultATR
	}
	info := campuscard.AppendAppInfo(nil, cfg.Info)
	if _, err := campuscard.ParseAppInfo(info); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &Card{
		cfg:     cfg,
		balance: cfg.Balance,
		online:  cfg.Counter,
		appInfo: info,
		holder:  campuscard.AppendHolder(nil, cfg.Holder),
	}, nil
}

// Balance returns the wallet balance in fen.
func (c *Card) Balance() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.balance
}

// Counter returns the online (load) counter.
func (c *Card) Counter() uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.online
}

// Log returns the transaction log, newest first.
func (c *Card) Log() []campuscard.LogRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]campuscard.LogRecord(nil), c.log...)
}

// Spend makes an offline purchase of fen from the wallet, as a water
// controller does, and logs it with the configured water terminal.
func (c *Card) Spend(fen int64) error {
	if fen <= 0 || fen > WalletLimit {
		return ErrAmount
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if fen > c.balance {
		return ErrInsufficient
	}
	c.balance -= fen
	c.addLog(campuscard.LogRecord{
		Counter:  c.offline,
		Amount:   fen,
		Type:     pboc.TypePurchase,
		Terminal: c.cfg.WaterTerm,
		DateTime: pboc.DateTime(c.cfg.Now()),
	})
	c.offline++
	return nil
}

func (c *Card) addLog(r campuscard.LogRecord) {
	c.log = append([]campuscard.LogRecord{r}, c.log...)
	if len(c.log) > campuscard.MaxLog {
		c.log = c.log[:campuscard.MaxLog]
	}
}

// reset is what power off, power on and reset do: the application is
// deselected and a half-done load forgotten, as on a real card.
func (c *Card) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.selected = false
	c.pending = nil
}
