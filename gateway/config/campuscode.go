package config

import (
	"crypto/elliptic"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

const maxCertCache = 10_000_000

func (c *Config) validateCampusCode(ck *checker) {
	cc := &c.CampusCode
	ck.duration("campuscode.validity", cc.Validity, time.Second, 24*time.Hour)
	ck.duration("campuscode.skew", cc.Skew, 0, time.Hour)
	ck.intRange("campuscode.cache_size", cc.CacheSize, 0, maxCertCache)
	seen := map[Algorithm]bool{}
	for i, a := range cc.Algorithms {
		key := fmt.Sprintf("campuscode.algorithms[%d]", i)
		switch a {
		case AlgEd25519, AlgSM2:
		default:
			ck.bad(key, "%q is not ed25519 or sm2", a)
			continue
		}
		if seen[a] {
			ck.bad(key, "%q is listed twice", a)
		}
		seen[a] = true
	}
	if len(cc.Algorithms) == 0 {
		ck.warn("campuscode.algorithms is empty; every campus code will be declined")
	}
	ids := map[uint32]int{}
	for i := range cc.Issuers {
		validateIssuer(ck, fmt.Sprintf("campuscode.issuers[%d]", i), &cc.Issuers[i], cc)
		if j, dup := ids[cc.Issuers[i].KeyID]; dup {
			ck.bad(fmt.Sprintf("campuscode.issuers[%d].key_id", i), "%d is also campuscode.issuers[%d].key_id", cc.Issuers[i].KeyID, j)
		} else {
			ids[cc.Issuers[i].KeyID] = i
		}
	}
	if len(cc.Issuers) == 0 && len(cc.Algorithms) > 0 {
		ck.warn("campuscode.issuers is empty; every campus code will be declined")
	}
}

func validateIssuer(ck *checker, key string, is *Issuer, cc *CampusCode) {
	var want int
	switch is.Algorithm {
	case AlgEd25519:
		want = 32
	case AlgSM2:
		want = 33
	default:
		ck.bad(key+".algorithm", "%q is not ed25519 or sm2", is.Algorithm)
	}
	if want != 0 {
		pk, err := hex.DecodeString(is.PublicKeyHex)
		switch {
		case err != nil || len(pk) != want:
			ck.bad(key+".public_key", "want %d hex characters for %s", 2*want, is.Algorithm)
		case is.Algorithm == AlgSM2 && !sm2Point(pk):
			ck.bad(key+".public_key", "is not a compressed SM2 point (02 or 03 followed by x on the curve)")
		default:
			is.PublicKey = pk
		}
		if !cc.Enabled(is.Algorithm) {
			ck.warn("%s uses %s, which campuscode.algorithms does not enable", key, is.Algorithm)
		}
	}
	is.NotBefore = ck.rfc3339(key+".not_before", is.NotBeforeText)
	is.NotAfter = ck.rfc3339(key+".not_after", is.NotAfterText)
	if !is.NotBefore.IsZero() && !is.NotAfter.IsZero() && !is.NotAfter.After(is.NotBefore) {
		ck.bad(key+".not_after", "%s is not after not_before %s", is.NotAfterText, is.NotBeforeText)
	}
}

func sm2Point(pk []byte) bool {
	if pk[0] != 2 && pk[0] != 3 {
		return false
	}
	x, _ := elliptic.UnmarshalCompressed(sm2.P256(), pk)
	return x != nil
}

func (ck *checker) rfc3339(key, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		ck.bad(key, "%q is not an RFC 3339 time such as 2026-09-01T00:00:00Z", s)
		return time.Time{}
	}
	return t.UTC()
}
