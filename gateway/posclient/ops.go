package posclient

import (
	"context"
	"encoding/binary"
	"fmt"

	"ecardgw/codec/iso8583"
	"ecardgw/codec/mac"
	"ecardgw/codec/tlv"
)

// SignIn signs the terminal in (0800, 60.3 = 003) for batch, unwraps PIK and
// MAK from field 62 with the TMK and checks their check values. Field 62 is
// PIK under TMK (16) · check (4) · MAK under TMK · check (4), the MAK 8
// bytes (32 in all) or, for a DoubleMAK terminal, 16 (40 in all).
func (t *Terminal) SignIn(ctx context.Context, batch uint32) (*iso8583.Message, error) {
	t.Batch = batch
	m := t.New(800, -1, 3)
	_ = m.SetString(63, "001")
	resp, _, err := t.Send(ctx, m, false)
	if err != nil {
		return resp, err
	}
	if RC(resp) != "00" {
		return resp, fmt.Errorf("posclient: sign-in answered %s", RC(resp))
	}
	makLen := 8
	if t.DoubleMAK {
		makLen = 16
	}
	f62 := resp.Bytes(62)
	if want := 16 + 4 + makLen + 4; len(f62) != want {
		return resp, fmt.Errorf("%w: field 62 has %d bytes, want %d", ErrBadAnswer, len(f62), want)
	}
	pik, err := mac.Unwrap(t.TMK, f62[0:16])
	if err != nil {
		return resp, err
	}
	mak, err := mac.Unwrap(t.TMK, f62[20:20+makLen])
	if err != nil {
		return resp, err
	}
	if cv := mac.CheckValue(pik); !mac.Equal(cv[:], f62[16:20]) {
		return resp, fmt.Errorf("%w: PIK check value", ErrBadAnswer)
	}
	if cv := mac.CheckValue(mak); !mac.Equal(cv[:], f62[20+makLen:]) {
		return resp, fmt.Errorf("%w: MAK check value", ErrBadAnswer)
	}
	t.PIK, t.MAK = pik, mak
	return resp, nil
}

// Echo sends an echo test (0820, 301).
func (t *Terminal) Echo(ctx context.Context) (*iso8583.Message, error) {
	resp, _, err := t.Send(ctx, t.New(820, -1, 301), false)
	return resp, err
}

// SignOutMessage builds a sign-out: 0820 with fields 11, 41, 42 and 60
// (00 · batch · 002) and nothing else, the shape the gateway requires of
// a MACed one.
func (t *Terminal) SignOutMessage() *iso8583.Message {
	m := t.New(820, -1, 2)
	m.Unset(12)
	m.Unset(13)
	return m
}

// SignOut sends the sign-out MACed under the session's MAK, as the gateway
// requires (docs/protocol.md section 4.3), and on 00 forgets the working
// keys. Not signed in, it sends nothing.
func (t *Terminal) SignOut(ctx context.Context) (*iso8583.Message, error) {
	resp, _, err := t.Send(ctx, t.SignOutMessage(), true)
	if err == nil && RC(resp) == "00" {
		t.MAK, t.PIK = nil, nil
	}
	return resp, err
}

// CardPurchase builds a 0200 purchase by contactless card.
func (t *Terminal) CardPurchase(card string, amount int64, f55 []byte) *iso8583.Message {
	m := t.New(200, 0, 0)
	setCardAmount(m, card, amount)
	if f55 == nil {
		f55 = tlv.Append(nil, 0xDF01, []byte{0x04, 0xA1, 0xB2, 0xC3})
	}
	_ = m.SetBytes(55, f55)
	return m
}

// CodePurchase builds a 0200 purchase paid with a scanned code (campus code
// or a third-party payment code) in field 62.
func (t *Terminal) CodePurchase(code string, amount int64) *iso8583.Message {
	m := t.New(200, 0, 0)
	_ = m.SetUint(4, uint64(amount))
	_ = m.SetDigits(22, []byte("031"))
	_ = m.SetUint(25, 0)
	_ = m.SetString(49, "156")
	_ = m.SetString(62, code)
	return m
}

// CardInquiry builds a 0100/310000 balance inquiry by card.
func (t *Terminal) CardInquiry(card string) *iso8583.Message {
	m := t.New(100, 310000, 0)
	SetCard(m, card)
	return m
}

// CodeInquiry builds a 0100/310000 balance inquiry by scanned code.
func (t *Terminal) CodeInquiry(code string) *iso8583.Message {
	m := t.New(100, 310000, 0)
	_ = m.SetDigits(22, []byte("031"))
	_ = m.SetUint(25, 0)
	_ = m.SetString(62, code)
	return m
}

// Refund builds a 0200/200000 refund of the purchase (batch, stan, MMDD).
func (t *Terminal) Refund(card string, amount int64, origBatch, origSTAN uint32, origDate uint16) *iso8583.Message {
	m := t.New(200, 200000, 0)
	setCardAmount(m, card, amount)
	_ = m.SetF61(iso8583.F61{Batch: origBatch, STAN: origSTAN, Date: origDate})
	return m
}

// Reversal builds the 0400 that undoes orig: it carries orig's fields 2, 3,
// 4, 11, 41, 42, 60 (and 22, 25, 49, 55 when present) and 39 = reason.
func (t *Terminal) Reversal(orig *iso8583.Message, reason string) *iso8583.Message {
	m := new(iso8583.Message)
	m.SetResponseFrom(orig, 2, 3, 4, 11, 12, 13, 22, 25, 41, 42, 49, 60)
	m.Header = orig.Header
	m.MTI = 400
	_ = m.SetString(39, reason)
	return m
}

// Settle builds a 0500 with the terminal's totals in field 48.
func (t *Terminal) Settle(debit int64, debitN int, credit int64, creditN int) *iso8583.Message {
	m := t.New(500, 0, 0)
	s := fmt.Sprintf("%012d%03d%012d%03d0", debit, debitN, credit, creditN)
	_ = m.SetDigits(48, []byte(s))
	return m
}

// LoadInit is field 55 of a small-wallet load (0200/190000): the card's
// answer to INITIALIZE FOR LOAD and the settlement POS's date, time and
// terminal number that MAC1 covers (docs/protocol.md).
type LoadInit struct {
	Serial     [10]byte // application serial number, BCD (DF02)
	Balance    uint32   // fen before the load (DF04)
	Counter    uint16   // online transaction counter (DF05)
	Random     [4]byte  // the card's random number (DF06)
	MAC1       [4]byte  // DF07
	KeyVersion byte     // DF08
	AlgID      byte     // DF09
	DateTime   [7]byte  // YYYYMMDDhhmmss, BCD (DF0A)
	TermNo     [6]byte  // DF0B
}

// AppendF55 appends the TLVs of l in the order the protocol gives them.
func (l *LoadInit) AppendF55(dst []byte) []byte {
	dst = tlv.Append(dst, 0xDF02, l.Serial[:])
	dst = tlv.Append(dst, 0xDF04, binary.BigEndian.AppendUint32(nil, l.Balance))
	dst = tlv.Append(dst, 0xDF05, binary.BigEndian.AppendUint16(nil, l.Counter))
	dst = tlv.Append(dst, 0xDF06, l.Random[:])
	dst = tlv.Append(dst, 0xDF07, l.MAC1[:])
	dst = tlv.Append(dst, 0xDF08, []byte{l.KeyVersion})
	dst = tlv.Append(dst, 0xDF09, []byte{l.AlgID})
	dst = tlv.Append(dst, 0xDF0A, l.DateTime[:])
	return tlv.Append(dst, 0xDF0B, l.TermNo[:])
}

// WalletLoad builds a settlement POS's 0200/190000 small-wallet load of
// amount fen onto card, field 55 from LoadInit.AppendF55.
func (t *Terminal) WalletLoad(card string, amount int64, f55 []byte) *iso8583.Message {
	m := t.New(200, 190000, 0)
	FillWalletLoad(m, card, amount, f55)
	return m
}

// FillWalletLoad sets a load's fields on m, whose header, MTI, processing
// code and STAN are already set (a reused message).
func FillWalletLoad(m *iso8583.Message, card string, amount int64, f55 []byte) {
	setCardAmount(m, card, amount)
	_ = m.SetBytes(55, f55)
}

// SetCard sets what every request by card carries: the card number (2),
// contactless entry (22: 071) and normal condition (25).
func SetCard(m *iso8583.Message, card string) {
	_ = m.SetDigits(2, []byte(card))
	_ = m.SetDigits(22, []byte("071"))
	_ = m.SetUint(25, 0)
}

// SetAmount sets a request's amount in fen (4) and its currency, CNY (49).
func SetAmount(m *iso8583.Message, fen int64) {
	_ = m.SetUint(4, uint64(fen))
	_ = m.SetString(49, "156")
}

// setCardAmount sets the card and the amount (SetCard, SetAmount).
func setCardAmount(m *iso8583.Message, card string, amount int64) {
	SetCard(m, card)
	SetAmount(m, amount)
}
