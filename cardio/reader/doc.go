// Package reader manages the gateway's own PC/SC readers through pcscd
// (github.com/ebfe/scard): it lists readers, follows readers being plugged
// in and out through the \\?PnP?\Notification pseudo-reader, waits for
// cards with SCardGetStatusChange, survives pcscd restarts by establishing
// a new context with backoff, reports each reader's state through a
// callback, and hands every card that arrives to OnCard as an
// apdu.Transmitter, together with the terminal id and role the
// configuration gives that reader.
//
// pcsc-lite wants one context per thread of use; the manager therefore
// gives the monitor and every card its own context, and only ever calls
// SCardCancel across goroutines, which pcsc-lite allows.
//
// It is not where card data is interpreted (cardio/campuscard,
// cardio/desk) nor where loads are authorised (the transaction engine).
package reader
