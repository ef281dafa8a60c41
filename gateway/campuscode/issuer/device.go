package issuer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"ecardgw/gateway/campuscode"
)

// Device is the phone side: the user's private key, its certificate and
// the counter of the last code shown.
type Device struct {
	Account uint64
	Cert    []byte // certificate bytes [0, 87+L); exported so tests can tamper with it
	Counter uint16 // counter of the last code shown; the next code uses Counter+1
	signer
}

// NewDevice makes a user key pair of the issuer's algorithm and has the
// issuer certify it under keyID for [notBefore, notAfter].
func NewDevice(issuer *Key, keyID uint32, account uint64, notBefore, notAfter time.Time, rand io.Reader) (*Device, error) {
	s, err := generateSigner(issuer.alg, rand)
	if err != nil {
		return nil, err
	}
	cert, err := certify(issuer, keyID, account, notBefore, notAfter, s.public(), rand)
	if err != nil {
		return nil, err
	}
	return &Device{Account: account, Cert: cert, signer: s}, nil
}

// Alg is the device's algorithm.
func (d *Device) Alg() campuscode.Algorithm { return d.alg }

// UserPublicKey is the user key in the code's form.
func (d *Device) UserPublicKey() []byte { return d.public() }

// Code advances the counter and returns the text of a new code generated
// at now ("CC1:..."). The counter wraps after 65535; the replay key also
// holds generated-at, so a wrapped counter does not collide.
func (d *Device) Code(now time.Time) (string, error) {
	sec := now.Unix()
	if sec < 0 || sec > 1<<32-1 {
		return "", fmt.Errorf("%w: time outside the 32-bit Unix range", ErrValidity)
	}
	payload, err := d.AppendPayload(nil, uint32(sec), d.Counter+1)
	if err != nil {
		return "", err
	}
	d.Counter++
	return string(campuscode.AppendText(nil, payload)), nil
}

// AppendPayload appends a signed binary payload with any generated-at and
// counter, leaving d.Counter alone: simulators and test vectors use it to
// build codes at fixed times.
func (d *Device) AppendPayload(dst []byte, generatedAt uint32, counter uint16) ([]byte, error) {
	l := d.alg.KeyLen()
	if len(d.Cert) != campuscode.PayloadLen(l)-6-campuscode.SigSize {
		return dst, fmt.Errorf("%w: certificate length %d", ErrCert, len(d.Cert))
	}
	start := len(dst)
	dst = append(dst, d.Cert...)
	dst = binary.BigEndian.AppendUint32(dst, generatedAt)
	dst = binary.BigEndian.AppendUint16(dst, counter)
	sig, err := d.sign(nil, dst[start:])
	if err != nil {
		return dst[:start], err
	}
	return append(dst, sig...), nil
}

// check ensures a loaded device's certificate carries its own public key
// and account, so a mixed-up file fails on load rather than at the gateway.
func (d *Device) check() error {
	l := d.alg.KeyLen()
	if len(d.Cert) != 23+l+campuscode.SigSize {
		return fmt.Errorf("%w: certificate length %d", ErrCert, len(d.Cert))
	}
	if campuscode.Algorithm(d.Cert[1]) != d.alg || !bytes.Equal(d.Cert[23:23+l], d.public()) {
		return fmt.Errorf("%w: certificate is for another key", ErrCert)
	}
	if binary.BigEndian.Uint64(d.Cert[6:]) != d.Account {
		return fmt.Errorf("%w: certificate is for another account", ErrCert)
	}
	return nil
}

// KeyID is the issuer key id the certificate names.
func (d *Device) KeyID() uint32 { return binary.BigEndian.Uint32(d.Cert[2:]) }

// NotAfter is the end of the certificate's validity.
func (d *Device) NotAfter() time.Time {
	return time.Unix(int64(binary.BigEndian.Uint32(d.Cert[18:])), 0).UTC()
}
