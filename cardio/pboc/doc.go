// Package pboc implements the small-wallet load cryptography of the campus
// card exactly as the card specification (spec/card.md) defines it: the
// per-card load key derived from a master load key and the application
// serial number, the session key, MAC1 (the card proves INITIALIZE FOR
// LOAD), MAC2 (the gateway authorises CREDIT FOR LOAD) and TAC (the card
// proves the credit).
//
// The transaction engine uses it to check MAC1 and answer MAC2; the virtual
// card uses it to play the card's side. It is not a general PBOC/EMV
// library: purchase keys, PSAM MACs and key diversification beyond the one
// level in the specification are out of scope. Keys never appear in errors.
package pboc
