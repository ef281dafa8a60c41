// Package vcard is a virtual campus card: the campus application of
// spec/card.md (files, GET BALANCE, INITIALIZE FOR LOAD and CREDIT FOR
// LOAD with real MACs, a transaction log, the UID pseudo-APDU) behind
// either an in-process Transmit for unit tests or the vpcd protocol, so
// that pcscd's vsmartcard-vpcd reader presents it as a real card to real
// PC/SC code.
//
// It is for tests and demos only: it keeps its state in memory, its
// purchase path (Spend) stands in for a water controller's PSAM without
// the purchase MACs, and it answers only what the campus terminal sends.
package vcard
