package forward

import "ecardgw/store"

// Delivered is the journal sequence number up to which the forwarder of
// a second sink (Options.Position name) has delivered; 0 before its
// first delivery. Journal retention must keep what comes after it.
func Delivered(tx *store.Tx, name string) (uint64, error) { return position(tx, name) }
