package campuscode

import (
	"bytes"
	"encoding/binary"
)

// Algorithm is the signature algorithm byte of a campus code.
type Algorithm uint8

const (
	Ed25519 Algorithm = 0x01 // crypto/ed25519, user key 32 bytes
	SM2     Algorithm = 0x02 // GM/T 0003 with SM3 and user id "1234567812345678", user key 33 bytes (compressed point)
)

// String returns "ed25519", "sm2" or "unknown"; used in configuration
// and on the command line.
func (a Algorithm) String() string {
	switch a {
	case Ed25519:
		return "ed25519"
	case SM2:
		return "sm2"
	}
	return "unknown"
}

// ParseAlgorithm is the inverse of Algorithm.String.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch s {
	case "ed25519", "Ed25519", "ED25519":
		return Ed25519, nil
	case "sm2", "SM2":
		return SM2, nil
	}
	return 0, newErr(ErrConfig, ReasonOther, "unknown algorithm name")
}

// KeyLen is the user public key length L for the algorithm, 0 if unknown.
func (a Algorithm) KeyLen() int {
	switch a {
	case Ed25519:
		return 32
	case SM2:
		return 33
	}
	return 0
}

// Layout of the binary payload (campus-code.md); offsets after the user
// key are relative to L.
const (
	Prefix       = "CC1:"
	Version      = 0x01
	SigSize      = 64 // Ed25519 signature, or SM2 r‖s
	headerSize   = 23 // up to and including L
	offAlg       = 1
	offKeyID     = 2
	offAccount   = 6
	offNotBefore = 14
	offNotAfter  = 18
	offKeyLen    = 22

	// MaxPayload is the longest valid payload (SM2).
	MaxPayload = 157 + 33
	// MaxTextLen is the longest valid text, prefix included.
	MaxTextLen = len(Prefix) + (MaxPayload/2*3 + MaxPayload%2*2)
)

// PayloadLen is the exact payload length for a user key of l bytes.
func PayloadLen(l int) int { return 157 + l }

// Code is a parsed campus code. The byte slices alias the payload it was
// parsed from: keep the payload alive and unchanged while using them.
type Code struct {
	Alg         Algorithm
	KeyID       uint32
	Account     uint64
	NotBefore   uint32 // certificate validity, Unix seconds
	NotAfter    uint32
	UserKey     []byte // L bytes
	IssuerSig   []byte // 64 bytes over Cert()[:23+L]
	GeneratedAt uint32 // the phone's clock, Unix seconds
	Counter     uint16
	UserSig     []byte // 64 bytes over Signed()
	Payload     []byte // the whole payload
}

// CertBody is what the issuer signs: bytes [0, 23+L).
func (c *Code) CertBody() []byte { return c.Payload[:headerSize+len(c.UserKey)] }

// Cert is the certificate: the issuer-signed body and its signature,
// bytes [0, 87+L). Its digest keys the verifier's cache.
func (c *Code) Cert() []byte { return c.Payload[:headerSize+len(c.UserKey)+SigSize] }

// Signed is what the user signs: bytes [0, 93+L).
func (c *Code) Signed() []byte { return c.Payload[:headerSize+len(c.UserKey)+SigSize+6] }

// ParsePayload parses a binary payload without copying: the Code's slices
// alias payload. It checks step 1 of the spec (exact length for the
// algorithm, known version) and nothing cryptographic. The Code is
// returned by value rather than filled through a pointer so that escape
// analysis can keep a caller's stack buffer on the stack.
func ParsePayload(payload []byte) (Code, error) {
	var c Code
	if len(payload) < headerSize {
		return c, errLength
	}
	if payload[0] != Version {
		return c, errVersion
	}
	alg := Algorithm(payload[offAlg])
	l := alg.KeyLen()
	if l == 0 {
		return c, errAlgorithm
	}
	if int(payload[offKeyLen]) != l {
		return c, errKeyLength
	}
	if len(payload) != PayloadLen(l) {
		return c, errLength
	}
	c.Alg = alg
	c.KeyID = binary.BigEndian.Uint32(payload[offKeyID:])
	c.Account = binary.BigEndian.Uint64(payload[offAccount:])
	c.NotBefore = binary.BigEndian.Uint32(payload[offNotBefore:])
	c.NotAfter = binary.BigEndian.Uint32(payload[offNotAfter:])
	off := headerSize
	c.UserKey = payload[off : off+l : off+l]
	off += l
	c.IssuerSig = payload[off : off+SigSize : off+SigSize]
	off += SigSize
	c.GeneratedAt = binary.BigEndian.Uint32(payload[off:])
	c.Counter = binary.BigEndian.Uint16(payload[off+4:])
	off += 6
	c.UserSig = payload[off : off+SigSize : off+SigSize]
	c.Payload = payload
	return c, nil
}

// AppendPayloadText strips the "CC1:" prefix from text and appends the
// Base45-decoded payload to dst. Texts longer than any valid code are
// refused before decoding, so dst never grows beyond MaxPayload for them.
func AppendPayloadText(dst, text []byte) ([]byte, error) {
	if !bytes.HasPrefix(text, []byte(Prefix)) {
		return dst, errPrefix
	}
	b45 := text[len(Prefix):]
	if len(b45) > MaxTextLen-len(Prefix) {
		return dst, errLength
	}
	return AppendBase45Decode(dst, b45)
}

// Parse decodes and parses a campus code text into a freshly allocated
// payload. Verifier.Verify does the same into a reused buffer.
func Parse(text []byte) (Code, error) {
	payload, err := AppendPayloadText(make([]byte, 0, MaxPayload), text)
	if err != nil {
		return Code{}, err
	}
	return ParsePayload(payload)
}

// AppendPayload appends the binary payload of c's fields to dst (c.Payload
// is ignored). UserKey must be Alg.KeyLen() bytes and both signatures 64
// bytes; a shorter slice is zero-padded so the layout stays fixed.
func AppendPayload(dst []byte, c *Code) []byte {
	dst = AppendCertBody(dst, c.Alg, c.KeyID, c.Account, c.NotBefore, c.NotAfter, c.UserKey)
	dst = appendFixed(dst, c.IssuerSig, SigSize)
	dst = binary.BigEndian.AppendUint32(dst, c.GeneratedAt)
	dst = binary.BigEndian.AppendUint16(dst, c.Counter)
	return appendFixed(dst, c.UserSig, SigSize)
}

// AppendCertBody appends the issuer-signed part of a certificate, bytes
// [0, 23+L), to dst. The issuing side signs exactly these bytes.
func AppendCertBody(dst []byte, alg Algorithm, keyID uint32, account uint64, notBefore, notAfter uint32, userKey []byte) []byte {
	l := alg.KeyLen()
	dst = append(dst, Version, byte(alg))
	dst = binary.BigEndian.AppendUint32(dst, keyID)
	dst = binary.BigEndian.AppendUint64(dst, account)
	dst = binary.BigEndian.AppendUint32(dst, notBefore)
	dst = binary.BigEndian.AppendUint32(dst, notAfter)
	dst = append(dst, byte(l))
	return appendFixed(dst, userKey, l)
}

func appendFixed(dst, b []byte, n int) []byte {
	if len(b) >= n {
		return append(dst, b[:n]...)
	}
	dst = append(dst, b...)
	for i := len(b); i < n; i++ {
		dst = append(dst, 0)
	}
	return dst
}

// AppendText appends "CC1:" and the Base45 text of payload to dst.
func AppendText(dst, payload []byte) []byte {
	return AppendBase45(append(dst, Prefix...), payload)
}
