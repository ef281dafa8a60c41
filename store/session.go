package store

import (
	"crypto/rand"
	"fmt"
	"time"
)

// Session is a terminal's signed-in state. PIK and MAK are the working
// keys in clear inside the process; at rest the whole session is sealed
// with AES-256-GCM under Options.StorageKey, so that a copy of the file
// (a backup) does not give away the keys.
type Session struct {
	Terminal         string
	PIK, MAK         []byte
	Batch            uint32
	BatchOpen        bool
	SignedIn         time.Time
	BlacklistVersion uint32
}

const (
	sessionV1 = 1
	sealedV1  = 1
	nonceSize = 12
)

func (e *enc) session(s *Session) {
	e.u8(sessionV1)
	e.u32(s.Batch)
	e.bool(s.BatchOpen)
	e.time(s.SignedIn)
	e.u32(s.BlacklistVersion)
	e.bytes(s.PIK)
	e.bytes(s.MAK)
}

// appendSessionPlain appends the clear encoding of s (what is sealed;
// Terminal is the key and the additional data, not part of it).
func appendSessionPlain(dst []byte, s *Session) ([]byte, error) {
	e := enc{b: dst}
	e.session(s)
	return e.b, e.err
}

// decodeSessionPlain decodes an unsealed session (Terminal left as is).
func decodeSessionPlain(b []byte, s *Session) error {
	d := dec{b: b}
	d.version(sessionV1)
	s.Batch = d.u32()
	s.BatchOpen = d.bool()
	s.SignedIn = d.time()
	s.BlacklistVersion = d.u32()
	s.PIK = d.bytes()
	s.MAK = d.bytes()
	return d.done()
}

// sessionAD binds a sealed value to its terminal: a sealed session copied
// under another terminal's key does not open.
func sessionAD(term string) []byte {
	return append([]byte{sealedV1}, term...)
}

// Session returns the terminal's session, unsealed. Without a storage
// key it fails with ErrNoStorageKey (even for an unknown terminal: a
// missing key is a configuration error to surface, not "signed out"); a
// value sealed under another key fails with ErrSealed.
func (tx *Tx) Session(term string) (Session, bool, error) {
	if tx.db.aead == nil {
		return Session{}, false, ErrNoStorageKey
	}
	var kb [TerminalMax]byte
	key, err := appendTerminal(kb[:0], term)
	if err != nil {
		return Session{}, false, err
	}
	b, err := tx.bucket(bktSessions)
	if err != nil {
		return Session{}, false, err
	}
	v := b.Get(key)
	if v == nil {
		return Session{}, false, nil
	}
	s := Session{Terminal: term}
	if err := tx.db.unsealSession(v, &s); err != nil {
		return Session{}, false, err
	}
	return s, true, nil
}

func (db *DB) unsealSession(v []byte, s *Session) error {
	if len(v) < 1+nonceSize+db.aead.Overhead() || v[0] != sealedV1 {
		return ErrCorruptValue
	}
	nonce, ct := v[1:1+nonceSize], v[1+nonceSize:]
	plain, err := db.aead.Open(nil, nonce, ct, sessionAD(s.Terminal))
	if err != nil {
		return fmt.Errorf("%w: terminal session", ErrSealed)
	}
	defer clear(plain)
	return decodeSessionPlain(plain, s)
}

// PutSession seals and stores s under s.Terminal (a fresh random nonce
// each time).
func (tx *Tx) PutSession(s *Session) error {
	if tx.db.aead == nil {
		return ErrNoStorageKey
	}
	key, err := appendTerminal(nil, s.Terminal)
	if err != nil {
		return err
	}
	b, err := tx.bucket(bktSessions)
	if err != nil {
		return err
	}
	var pe enc
	pe.session(s)
	if pe.err != nil {
		return pe.err
	}
	defer clear(pe.b)
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(pe.b)+tx.db.aead.Overhead())
	out[0] = sealedV1
	if _, err := rand.Read(out[1:]); err != nil {
		return err
	}
	out = tx.db.aead.Seal(out, out[1:1+nonceSize], pe.b, sessionAD(s.Terminal))
	return b.Put(key, out)
}
