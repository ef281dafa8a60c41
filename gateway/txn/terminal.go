package txn

import (
	"fmt"
	"sync/atomic"
)

// TerminalType says what a terminal may do.
type TerminalType uint8

const (
	TypePOS        TerminalType = iota + 1 // canteen and shop POS
	TypeSettlement                         // settlement POS: also small-wallet loads
	TypeKiosk                              // self-service kiosk: top-up, fees, history
	TypeDesk                               // a reader on the gateway box at a service desk
)

// ParseTerminalType maps the configuration word to a type.
func ParseTerminalType(s string) (TerminalType, error) {
	switch s {
	case "pos":
		return TypePOS, nil
	case "settlement":
		return TypeSettlement, nil
	case "kiosk":
		return TypeKiosk, nil
	case "desk":
		return TypeDesk, nil
	}
	return 0, fmt.Errorf("unknown terminal type %q (want pos, settlement or kiosk)", s)
}

func (t TerminalType) String() string {
	switch t {
	case TypePOS:
		return "pos"
	case TypeSettlement:
		return "settlement"
	case TypeKiosk:
		return "kiosk"
	case TypeDesk:
		return "desk"
	}
	return "other"
}

// Terminal is one configured terminal and its master key.
type Terminal struct {
	ID       string // field 41, 8 characters
	Merchant string // field 42, 15 characters
	Type     TerminalType
	Location string // where it stands, kept in its journal records
	TMK      []byte // 16-byte terminal master key (3DES), from the key file
	// DoubleMAK makes its sign-ins deliver a double-length (16-byte) MAK,
	// under which MACs are ANSI X9.19 (field 62 then carries 40 bytes,
	// docs/protocol.md section 6). false: the spec's single-DES MAK and
	// UnionPay ECB MAC.
	DoubleMAK bool
	// LegacySignOut accepts a sign-out (0820, 002) without a MAC from
	// this terminal, rate limited as sign-ins are: for terminals that
	// cannot MAC one. Anyone who knows the terminal and merchant ids can
	// then sign it out. false: a sign-out must carry a valid MAC.
	LegacySignOut bool
}

// allows reports whether a terminal of this type may send mti/proc.
func (t TerminalType) allows(mti uint16, proc uint32) bool {
	switch mti {
	case mti0100:
		switch proc {
		case PCBalance:
			return true
		case PCSync:
			return t == TypePOS || t == TypeSettlement || t == TypeDesk
		case PCHistory:
			return t == TypeKiosk || t == TypeDesk
		}
	case mti0200, mti0400:
		switch proc {
		case PCPurchase, PCRefund:
			return t == TypePOS || t == TypeSettlement
		case PCLoad:
			return t == TypeSettlement
		case PCTopUp, PCFee:
			return t == TypeKiosk
		}
	case mti0220:
		return proc == PCPurchase && (t == TypePOS || t == TypeSettlement)
	case mti0500:
		return proc == PCPurchase
	}
	return false
}

// terminalSet is swapped whole on reload (SIGHUP), so readers never lock.
type terminalSet struct {
	byID map[string]*Terminal
}

type terminals struct{ p atomic.Pointer[terminalSet] }

func (ts *terminals) set(list []Terminal) {
	m := make(map[string]*Terminal, len(list))
	for i := range list {
		t := list[i]
		m[t.ID] = &t
	}
	ts.p.Store(&terminalSet{byID: m})
}

func (ts *terminals) get(id []byte) *Terminal {
	s := ts.p.Load()
	if s == nil {
		return nil
	}
	return s.byID[string(id)] // no allocation: the compiler optimises map[string(b)]
}
