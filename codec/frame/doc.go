// Package frame handles the outer layer of a POS frame: the 2-byte LEN, the
// 5-byte TPDU and the 6-byte application header, and splitting a TCP byte
// stream into whole frames.
//
// It is for the server's read loop (Next tells how many bytes make the next
// frame, before anything is parsed) and for building answers (Begin/Finish
// wrap an appended body, Header.Reply swaps the TPDU addresses).
//
// It is not for ISO 8583 content: the MTI, bitmap and fields are
// codec/iso8583's business, and nothing here looks past the header.
package frame
