package desk

import "errors"

// ErrNotCampusCard: the card has no campus application (SELECT answered
// file not found), e.g. a bank card presented at the desk.
var ErrNotCampusCard = errors.New("desk: not a campus card")
