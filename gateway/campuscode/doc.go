// Package campuscode parses and verifies campus codes (校园码) offline:
// the "CC1:" + Base45 text a POS scans from the electronic campus card.
//
// It is for steps 1–6 of shared/spec/campus-code.md: format, enabled
// algorithm, issuer key ring (rotation, revocation, key validity),
// certificate validity and issuer signature (remembered in a bounded cache
// so a returning user costs one signature check), user signature and
// freshness. Ed25519 and SM2 (GM/T 0003 with SM3 and the default user id)
// are supported.
//
// It is not for steps 7 (replay) and 8 (account rules): those need the
// store and run inside the transaction engine's store transaction, which
// uses ReplayKey and Verifier.Expiry to keep the replay record, and
// ErrReplay / ErrInactive to answer. It holds no private key and cannot
// mint codes; the issuing side is the issuer subpackage.
//
// Errors never carry the code text, an account number or key material;
// Reason maps any error to a bounded metrics label and ResponseCode to the
// ISO 8583 field 39 answer (Q1–Q6).
package campuscode
