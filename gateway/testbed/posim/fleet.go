package posim

import (
	"fmt"
	"os"
	"sync"

	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/config"
	"ecardgw/gateway/posclient"
	"ecardgw/store"
	"ecardgw/store/accountscsv"
)

// Card is one account's physical card as the simulator holds it, with the
// campus-code device and the small-wallet state of that person. The mutex
// serialises the device counter and the wallet, which terminals share
// when there are fewer cards than terminals.
type Card struct {
	Account uint64
	Number  string // 12 digits
	Serial  string // 20 digits; "" when the accounts file has none

	mu     sync.Mutex
	device *issuer.Device
	wallet walletCard
}

// Fleet is what the simulator needs to know about the gateway: the
// terminals allowed to sign in with their master keys, the cards, the
// small-wallet master load key and, for campus codes, the issuer key.
type Fleet struct {
	Addr       string               // the gateway's POS address
	POS        []posclient.Terminal // type pos
	Settlement []posclient.Terminal // type settlement
	Cards      []*Card
	WalletKey  [16]byte // the master load key of key version 1; zero: no wallet loads
	HasWallet  bool
	Issuer     *issuer.Key // nil: no campus codes
}

// LoadFleet reads the gateway's configuration and key file (terminals,
// TMKs, wallet master key, POS address), the accounts CSV (cards; only
// active accounts are used) and, if issuerKey is not "", the campus-code
// issuer key.
func LoadFleet(configPath, accountsPath, issuerKey string) (*Fleet, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return nil, err
	}
	keys, err := config.LoadKeys(cfg.Keys.File)
	if err != nil {
		return nil, err
	}
	f := &Fleet{Addr: cfg.Listen.POS}
	for _, t := range cfg.Terminals {
		tmk, ok := keys.TMK(t.ID)
		if !ok {
			continue
		}
		pt := posclient.Terminal{ID: t.ID, Merchant: t.Merchant, TMK: append([]byte(nil), tmk...), DoubleMAK: t.DoubleMAK()}
		switch t.Type {
		case config.TerminalPOS:
			f.POS = append(f.POS, pt)
		case config.TerminalSettlement:
			f.Settlement = append(f.Settlement, pt)
		}
	}
	// posim's cards report key version 1 (DF08).
	if wk, ok := keys.WalletKey(1); ok && len(wk) == 16 {
		copy(f.WalletKey[:], wk)
		f.HasWallet = true
	}
	if accountsPath != "" {
		cards, err := readCards(accountsPath)
		if err != nil {
			return nil, err
		}
		f.Cards = cards
	}
	if issuerKey != "" {
		k, err := issuer.LoadKey(issuerKey)
		if err != nil {
			return nil, err
		}
		f.Issuer = k
	}
	return f, nil
}

func readCards(path string) ([]*Card, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFleet, err)
	}
	defer fh.Close()
	rows, err := accountscsv.Parse(fh)
	if err != nil {
		return nil, fmt.Errorf("%w: accounts %s: %v", ErrFleet, path, err)
	}
	return cardsOf(rows), nil
}

func cardsOf(rows []store.Account) []*Card {
	var out []*Card
	for _, a := range rows {
		if a.Status != store.StatusActive || a.CardNumber == "" {
			continue
		}
		out = append(out, &Card{Account: a.No, Number: a.CardNumber, Serial: a.CardSerial})
	}
	return out
}

// check says whether the fleet can drive mix, with an error naming what
// is missing.
func (f *Fleet) check(m Mix) error {
	switch {
	case m[KindEcho] < m.Total() && len(f.POS) == 0 && len(f.Settlement) == 0:
		return fmt.Errorf("%w: no terminals in the configuration", ErrFleet)
	case (m[KindCard] > 0 || m[KindCode] > 0 || m[KindInquiry] > 0 || m[KindWallet] > 0) && len(f.Cards) == 0:
		return fmt.Errorf("%w: the mix uses cards but there are no active accounts (--accounts)", ErrFleet)
	case m[KindCode] > 0 && f.Issuer == nil:
		return fmt.Errorf("%w: the mix has campus codes but no issuer key (--issuer-key)", ErrFleet)
	case m[KindWallet] > 0 && (len(f.Settlement) == 0 || !f.HasWallet):
		return fmt.Errorf("%w: the mix has wallet loads but no settlement terminal or wallet master key", ErrFleet)
	case m[KindWallet] > 0 && anyNoSerial(f.Cards):
		return fmt.Errorf("%w: wallet loads need each card's serial in the accounts file", ErrFleet)
	case m.Total()-m[KindWallet]-m[KindEcho] > 0 && len(f.POS) == 0:
		return fmt.Errorf("%w: no POS terminals for the purchases", ErrFleet)
	}
	return nil
}

func anyNoSerial(cards []*Card) bool {
	for _, c := range cards {
		if len(c.Serial) != 20 {
			return true
		}
	}
	return false
}
