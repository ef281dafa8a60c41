// Package tlv reads and writes the card data of field 55: a run of items,
// each a 2-byte tag, a 1-byte length and that many value bytes.
//
// It is for the campus profile's private tags (DF01..DF10). It is not a
// general BER-TLV codec: tags are always two bytes and lengths one byte,
// and nothing is nested.
package tlv
