// Package campuscard speaks the campus application of the physical card
// (spec/card.md) over an apdu.Transmitter: SELECT by AID, the application
// information, cardholder and transaction log files, GET BALANCE, and the
// terminal side of the small-wallet load (INITIALIZE FOR LOAD, CREDIT FOR
// LOAD).
//
// It is the terminal, not the authority: it never holds load keys. MAC2
// comes from whoever authorises the load (the transaction engine, or a
// test computing it with cardio/pboc). It is also not a reader manager;
// see cardio/reader.
package campuscard
