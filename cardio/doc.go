// Package cardio groups the gateway's own access to physical campus cards
// through PC/SC readers (a service desk, a settlement station next to the
// box). It holds no code itself; the work is split by concern:
//
//   - pboc: small-wallet load cryptography (card key, session key, MAC1,
//     MAC2, TAC), shared with the transaction engine that checks MAC1 and
//     answers MAC2 for terminals in the field;
//   - apdu: ISO 7816-4 command/response APDUs over any Transmitter;
//   - campuscard: the campus application (SELECT, files, balance, load);
//   - desk: everything a card data sync needs, read in one call;
//   - vcard: a virtual campus card speaking the vpcd protocol, for tests
//     and demos without hardware;
//   - reader: the PC/SC reader manager on github.com/ebfe/scard.
//
// It is not the place for account logic: the engine decides whether a load
// is allowed and journals it; cardio only talks to the card.
package cardio
