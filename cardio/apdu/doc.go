// Package apdu is the ISO/IEC 7816-4 layer between card applications and a
// card reader: it builds short command APDUs (cases 1 to 4), parses
// response APDUs, and runs an exchange over a Transmitter that follows
// 61xx (GET RESPONSE) and 6Cxx (repeat with the right Le) and turns every
// other non-9000 status word into a *StatusError.
//
// It is not a transport (see cardio/reader for PC/SC) and knows nothing of
// the campus application (see cardio/campuscard). Extended-length APDUs
// and secure messaging are not supported: the campus card never needs
// them.
package apdu
