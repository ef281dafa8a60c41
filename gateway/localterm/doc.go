// Package localterm makes the gateway box's own PC/SC readers terminals: a
// card placed on a desk reader is synced (0100/330000) and its balances
// shown; a card placed on a settlement reader has its small wallet loaded
// back to the limit (0200/190000, INITIALIZE FOR LOAD → MAC2 → CREDIT FOR
// LOAD), with a reversal (0400) when the card is pulled away after the
// gateway authorised the load.
//
// Every step is an ISO 8583 request handed to the transaction engine in
// process, exactly as a POS on the network would send it: the same rules,
// the same journal, the same idempotency and reversal handling. It is not
// the reader manager (cardio/reader) nor the card protocol
// (cardio/campuscard).
package localterm
