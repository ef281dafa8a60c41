package alipay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SignContent is the string an RSA2 signature covers (开放平台 › 签名 ›
// 自行实现签名, https://opendocs.alipay.com/common/02kf5q): every parameter
// with a non-empty value except those in skip, sorted by name (ASCII), as
// name=value with the raw (not URL-encoded) value, joined with "&". A
// request skips sign; a notification (异步通知验签) skips sign and
// sign_type.
func SignContent(p url.Values, skip ...string) []byte {
	names := make([]string, 0, len(p))
outer:
	for k, v := range p {
		for _, s := range skip {
			if k == s {
				continue outer
			}
		}
		if len(v) == 0 || v[0] == "" {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(p.Get(k))
	}
	return []byte(b.String())
}

// SignRSA2 is SHA256withRSA (PKCS #1 v1.5) of content, base64.
func SignRSA2(content []byte, key *rsa.PrivateKey) (string, error) {
	h := sha256.Sum256(content)
	s, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(s), nil
}

// VerifyRSA2 checks a base64 SHA256withRSA signature of content.
func VerifyRSA2(content []byte, sig string, key *rsa.PublicKey) error {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || sig == "" {
		return fmt.Errorf("%w: sign is not base64", ErrSignature)
	}
	h := sha256.Sum256(content)
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, h[:], raw); err != nil {
		return fmt.Errorf("%w: does not verify", ErrSignature)
	}
	return nil
}

// ParsePrivateKey reads an application private key: PEM (PKCS #8 or
// PKCS #1) or the bare base64 the Alipay key tool writes.
func ParsePrivateKey(s string) (*rsa.PrivateKey, error) {
	der, err := pemOrBase64(s)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("%w: not an RSA key", ErrOptions)
	}
	k, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: not an RSA private key", ErrOptions)
	}
	return k, nil
}

// ParsePublicKey reads the Alipay public key: PEM or bare base64 of the
// SubjectPublicKeyInfo.
func ParsePublicKey(s string) (*rsa.PublicKey, error) {
	der, err := pemOrBase64(s)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: not a public key", ErrOptions)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an RSA public key", ErrOptions)
	}
	return rk, nil
}

func pemOrBase64(s string) ([]byte, error) {
	if b, _ := pem.Decode([]byte(s)); b != nil {
		return b.Bytes, nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil || len(der) == 0 {
		return nil, fmt.Errorf("%w: key is neither PEM nor base64", ErrOptions)
	}
	return der, nil
}

// China is the zone of Alipay's timestamps (UTC+8, no daylight saving).
var China = time.FixedZone("CST", 8*3600)

// TimeLayout is the format of timestamp and gmt_payment.
const TimeLayout = "2006-01-02 15:04:05"

// Yuan writes fen as Alipay's amount: yuan with two decimals.
func Yuan(fen int64) string {
	return strconv.FormatInt(fen/100, 10) + "." + fmt.Sprintf("%02d", fen%100)
}

// Fen reads Alipay's amount (yuan, at most two decimals, 0.01 to
// 100000000) into fen.
func Fen(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 9 || len(frac) > 2 || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("%w: amount %q", ErrMessage, s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
