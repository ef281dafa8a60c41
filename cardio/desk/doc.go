// Package desk reads, in one call, everything a card data sync
// (0100/330000) needs from a campus card on one of the gateway's own
// readers: serial number, UID, account, holder, wallet balance and online
// counter.
//
// It only reads: it never loads or changes the card, and it does not talk
// to the store; the transaction engine turns CardData into a sync.
package desk
