// Package mac holds the terminal-facing cryptography of the POS protocol:
// the UnionPay "ECB" MAC over a message's MAB, wrapping working keys under
// a terminal master key (3DES-ECB), key check values, and a constant-time
// comparison for MACs.
//
// It is not for the card's own cryptography (small-wallet MAC1/MAC2/TAC
// are cardio/pboc), and it never stores or logs a key.
package mac
