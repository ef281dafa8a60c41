package vcard

import (
	"bytes"
	"encoding/binary"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/campuscard"
	"ecardgw/cardio/pboc"
)

var _ apdu.Transmitter = (*Card)(nil)

// Transmit answers one command APDU in process, as the card would through
// a reader. It never returns an error: a card answers everything with a
// status word.
func (c *Card) Transmit(cmd []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cm, err := apdu.ParseCommand(cmd)
	if err != nil {
		return sw(apdu.SWWrongLength), nil
	}
	// A load is INITIALIZE immediately followed by CREDIT; anything in
	// between abandons it.
	pending := c.pending
	c.pending = nil
	data, status := c.dispatch(cm, pending)
	return apdu.AppendResponse(make([]byte, 0, len(data)+2), data, status), nil
}

func sw(s uint16) []byte { return []byte{byte(s >> 8), byte(s)} }

func (c *Card) dispatch(cm apdu.Command, pending *pendingLoad) ([]byte, uint16) {
	switch {
	case cm.CLA == 0xFF && cm.INS == 0xCA:
		return c.getUID(cm)
	case cm.CLA == 0x00 && cm.INS == 0xA4:
		return c.selectApp(cm)
	case cm.CLA == 0x00 && cm.INS == 0xB0:
		return c.readBinary(cm)
	case cm.CLA == 0x00 && cm.INS == 0xB2:
		return c.readRecord(cm)
	case cm.CLA == 0x80 && cm.INS == 0x5C:
		return c.getBalance(cm)
	case cm.CLA == 0x80 && cm.INS == 0x50:
		return c.initLoad(cm)
	case cm.CLA == 0x80 && cm.INS == 0x52:
		return c.creditLoad(cm, pending)
	case cm.CLA != 0x00 && cm.CLA != 0x80:
		return nil, apdu.SWCLANotSupported
	default:
		return nil, apdu.SWINSNotSupported
	}
}

func (c *Card) getUID(cm apdu.Command) ([]byte, uint16) {
	if cm.P1 != 0 || cm.P2 != 0 {
		return nil, apdu.SWWrongP1P2
	}
	return c.cfg.UID, apdu.SWOK
}

func (c *Card) selectApp(cm apdu.Command) ([]byte, uint16) {
	if cm.P1 != 0x04 {
		return nil, apdu.SWWrongP1P2
	}
	if !bytes.Equal(cm.Data, campuscard.AID) {
		c.selected = false
		return nil, apdu.SWFileNotFound
	}
	c.selected = true
	return nil, apdu.SWOK
}

// readBinary serves READ BINARY with an SFI in P1 and the offset in P2.
// A Le past the end of the file gets 6Cxx with the bytes available, so
// terminals exercise the wrong-length path against this card.
func (c *Card) readBinary(cm apdu.Command) ([]byte, uint16) {
	if !c.selected {
		return nil, apdu.SWConditions
	}
	if cm.P1&0x80 == 0 {
		return nil, apdu.SWWrongP1P2
	}
	var file []byte
	switch cm.P1 & 0x1F {
	case campuscard.SFIAppInfo:
		file = c.appInfo
	case campuscard.SFIHolder:
		file = c.holder
	default:
		return nil, apdu.SWFileNotFound
	}
	off := int(cm.P2)
	if off >= len(file) {
		return nil, apdu.SWWrongP1P2
	}
	rest := file[off:]
	switch {
	case cm.Ne == 0:
		return nil, apdu.SWWrongLength
	case cm.Ne == apdu.MaxNe && len(rest) < apdu.MaxNe:
		return rest, apdu.SWOK
	case cm.Ne > len(rest):
		return nil, 0x6C00 | uint16(len(rest))
	}
	return rest[:cm.Ne], apdu.SWOK
}

func (c *Card) readRecord(cm apdu.Command) ([]byte, uint16) {
	if !c.selected {
		return nil, apdu.SWConditions
	}
	if cm.P2&0x07 != 0x04 {
		return nil, apdu.SWWrongP1P2
	}
	if cm.P2>>3 != campuscard.SFILog {
		return nil, apdu.SWFileNotFound
	}
	n := int(cm.P1)
	if n == 0 || n > len(c.log) {
		return nil, apdu.SWRecordNotFound
	}
	if cm.Ne != campuscard.LogLen && cm.Ne != apdu.MaxNe {
		return nil, 0x6C00 | campuscard.LogLen
	}
	return campuscard.AppendLogRecord(nil, c.log[n-1]), apdu.SWOK
}

func (c *Card) getBalance(cm apdu.Command) ([]byte, uint16) {
	if !c.selected {
		return nil, apdu.SWConditions
	}
	if cm.P1 != 0 || cm.P2 != 0x02 {
		return nil, apdu.SWWrongP1P2
	}
	if cm.Ne != 4 {
		return nil, 0x6C04
	}
	return binary.BigEndian.AppendUint32(nil, uint32(c.balance)), apdu.SWOK
}

// initLoad answers INITIALIZE FOR LOAD: key index (1) · amount (4) ·
// terminal (6) → balance · counter · key version · alg id · random · MAC1.
// Amount 0 is allowed: terminals use it to read the online counter.
func (c *Card) initLoad(cm apdu.Command) ([]byte, uint16) {
	if !c.selected {
		return nil, apdu.SWConditions
	}
	if cm.P1 != 0 || cm.P2 != 0x02 {
		return nil, apdu.SWWrongP1P2
	}
	if len(cm.Data) != 11 || cm.Ne != 0x10 {
		return nil, apdu.SWWrongLength
	}
	if cm.Data[0] != c.cfg.KeyIndex {
		return nil, apdu.SWKeyNotFound
	}
	amount := binary.BigEndian.Uint32(cm.Data[1:5])
	// The limit is a condition of use, like an expired application.
	if int64(amount)+c.balance > WalletLimit {
		return nil, apdu.SWConditions
	}
	var term [6]byte
	copy(term[:], cm.Data[5:11])
	var random [4]byte
	if _, err := c.cfg.Rand.Read(random[:]); err != nil {
		return nil, apdu.SWConditions
	}
	sk := pboc.SessionKey(c.cfg.LoadKey, random, c.online)
	bal := uint32(c.balance)
	mac1 := pboc.MAC1(sk, bal, amount, term)
	c.pending = &pendingLoad{amount: amount, term: term, sk: sk, balance: bal}

	out := binary.BigEndian.AppendUint32(make([]byte, 0, 16), bal)
	out = binary.BigEndian.AppendUint16(out, c.online)
	out = append(out, c.cfg.KeyVersion, c.cfg.AlgID)
	out = append(out, random[:]...)
	return append(out, mac1[:]...), apdu.SWOK
}

// creditLoad answers CREDIT FOR LOAD: date (4) · time (3) · MAC2 (4) → TAC.
func (c *Card) creditLoad(cm apdu.Command, p *pendingLoad) ([]byte, uint16) {
	if p == nil || !c.selected {
		return nil, apdu.SWConditions
	}
	if cm.P1 != 0 || cm.P2 != 0 {
		return nil, apdu.SWWrongP1P2
	}
	if len(cm.Data) != 11 || cm.Ne != 4 {
		return nil, apdu.SWWrongLength
	}
	var dt [7]byte
	var got [4]byte
	copy(dt[:], cm.Data[:7])
	copy(got[:], cm.Data[7:])
	if !pboc.Equal(got, pboc.MAC2(p.sk, p.amount, p.term, dt)) {
		return nil, apdu.SWMACInvalid
	}
	newBal := p.balance + p.amount
	tac := pboc.TAC(p.sk, newBal, c.online, p.amount, p.term, dt)
	c.balance = int64(newBal)
	c.addLog(campuscard.LogRecord{
		Counter:  c.online,
		Amount:   int64(p.amount),
		Type:     pboc.TypeLoad,
		Terminal: p.term,
		DateTime: dt,
	})
	c.online++
	return tac[:], apdu.SWOK
}
