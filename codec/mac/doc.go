// Package mac holds the terminal-facing cryptography of the POS protocol:
// the MAC over a message's MAB — the UnionPay "ECB" MAC under the spec's
// single-DES MAK, the ANSI X9.19 retail MAC under a double-length one —,
// wrapping working keys under a terminal master key (3DES-ECB), key check
// values, and a constant-time comparison for MACs.
//
// It is not for the card's own cryptography (small-wallet MAC1/MAC2/TAC
// are cardio/pboc), and it never stores or logs a key.
package mac
