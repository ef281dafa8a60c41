package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Account returns account no.
func (tx *Tx) Account(no uint64) (Account, bool, error) {
	if tx.acctOK && tx.acct.No == no {
		return tx.acct.clone(), true, nil
	}
	b, err := tx.bucket(bktAccounts)
	if err != nil {
		return Account{}, false, err
	}
	return tx.getAccount(b, no)
}

// getAccount is getAccount through the transaction's one-account cache.
func (tx *Tx) getAccount(b *bolt.Bucket, no uint64) (Account, bool, error) {
	if tx.acctOK && tx.acct.No == no {
		return tx.acct.clone(), true, nil
	}
	a, ok, err := getAccount(b, no)
	if ok && err == nil {
		tx.remember(&a)
	}
	return a, ok, err
}

// remember caches a copy of a (writable transactions only: a read
// transaction is short and reads each account once).
func (tx *Tx) remember(a *Account) {
	if !tx.btx.Writable() {
		return
	}
	tx.acct, tx.acctOK = a.clone(), true
}

// # One write of the account per approval
//
// An approval writes its account twice: the debit (txn) and the link to
// its journal record (AppendJournal). When the cached account is put
// again with the same card number, name and staff number (its indexes do
// not move), PutAccount only updates the cache and marks it dirty; the
// one bbolt write happens when anything else could look at the accounts
// bucket — another account is cached, the bucket or its indexes are
// opened (tx.bucket), the function ends (flushAccount, before its
// transaction commits or the next function runs).

// flushAccount writes a cached account that PutAccount left dirty: its
// indexes are those already stored (putCached), so only its value is put.
func (tx *Tx) flushAccount() error {
	if !tx.acctDirty {
		return nil
	}
	tx.acctDirty = false
	b, err := tx.accountBuckets()
	if err != nil {
		return err
	}
	return tx.putAccountIn(b, &tx.acct, &tx.acct, true)
}

// putCached is PutAccount's cheap case: a is the cached account with the
// same indexes; only the cache changes (see flushAccount).
func (tx *Tx) putCached(a *Account) bool {
	if !tx.acctOK || tx.acct.No != a.No || tx.db.importing.Load() || !tx.btx.Writable() ||
		tx.acct.CardNumber != a.CardNumber || tx.acct.Name != a.Name || tx.acct.StaffNo != a.StaffNo {
		return false
	}
	if tx.acct.LastSeq > a.LastSeq {
		// A copy read before this transaction's journal append must not
		// move the history head backwards.
		a.LastSeq = tx.acct.LastSeq
	}
	tx.acct, tx.acctDirty = a.clone(), true
	return true
}

// clone copies a, including the bytes of CardUID.
func (a *Account) clone() Account {
	c := *a
	if a.CardUID != nil {
		c.CardUID = bytes.Clone(a.CardUID)
	}
	return c
}

func getAccount(b *bolt.Bucket, no uint64) (Account, bool, error) {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], no)
	v := b.Get(k[:])
	if v == nil {
		return Account{}, false, nil
	}
	var a Account
	if err := decodeAccount(v, &a); err != nil {
		return Account{}, false, fmt.Errorf("account %d: %w", no, err)
	}
	return a, true, nil
}

// AccountByCard returns the account holding the 12-digit card number.
func (tx *Tx) AccountByCard(cardNumber string) (Account, bool, error) {
	return tx.byIndex(bktCards, []byte(cardNumber))
}

// AccountByNameStaff returns the account with exactly this name and
// staff number. If several accounts share both, the one stored last wins.
func (tx *Tx) AccountByNameStaff(name, staffNo string) (Account, bool, error) {
	return tx.byIndex(bktNames, nameKey(name, staffNo))
}

func (tx *Tx) byIndex(index, key []byte) (Account, bool, error) {
	if len(key) == 0 {
		return Account{}, false, nil
	}
	ix, err := tx.bucket(index)
	if err != nil {
		return Account{}, false, err
	}
	v := ix.Get(key)
	if v == nil {
		return Account{}, false, nil
	}
	if len(v) != 8 {
		return Account{}, false, ErrCorruptValue
	}
	accts, err := tx.bucket(bktAccounts)
	if err != nil {
		return Account{}, false, err
	}
	a, ok, err := tx.getAccount(accts, binary.BigEndian.Uint64(v))
	if err == nil && !ok {
		// The index points at nothing: only a damaged file does that.
		err = fmt.Errorf("%w: %s index dangles", ErrCorruptValue, index)
	}
	return a, ok, err
}

// nameKey is len(name) | name | staffNo, so no character in a name can
// make two different pairs collide.
func nameKey(name, staffNo string) []byte {
	if name == "" {
		return nil
	}
	k := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(name)+len(staffNo)), uint16(len(name)))
	k = append(k, name...)
	return append(k, staffNo...)
}

// PutAccount stores a and keeps the card and name indexes in step,
// including when the card number, name or staff number changed. A card
// number already held by another account is refused with ErrCardInUse
// (take it off the other account first). Updated is stored as given.
func (tx *Tx) PutAccount(a *Account) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	if tx.putCached(a) {
		return nil
	}
	b, err := tx.accountBuckets()
	if err != nil {
		return err
	}
	old, existed, err := tx.getAccount(b.accts, a.No)
	if err != nil {
		return err
	}
	if existed && old.LastSeq > a.LastSeq {
		// A copy read before this transaction's journal append must not
		// move the history head backwards.
		a.LastSeq = old.LastSeq
	}
	if err := tx.putAccountIn(b, a, &old, existed); err != nil {
		return err
	}
	tx.remember(a)
	if tx.db.importing.Load() {
		// An import is building the next generation of the accounts:
		// keep it in step (import.go).
		return tx.importMirror(a, &old, existed)
	}
	return nil
}

func checkAccount(a *Account) error {
	if a.No == 0 {
		return fmt.Errorf("%w: account number 0", ErrBadKey)
	}
	if a.Status >= statusCount {
		return fmt.Errorf("%w: status %d", ErrBadValue, a.Status)
	}
	if len(a.Name) > 0xFFFF-2-len(a.StaffNo) {
		return ErrTooLong
	}
	if a.BalanceFen > MaxBalanceFen || a.BalanceFen < -MaxBalanceFen {
		return fmt.Errorf("%w: balance %d fen is beyond ±%d", ErrBadValue, a.BalanceFen, int64(MaxBalanceFen))
	}
	return nil
}

// accountBuckets are the accounts and their two indexes: the live ones,
// or the generation an import builds.
type accountBuckets struct{ accts, cards, names *bolt.Bucket }

func (tx *Tx) accountBuckets() (accountBuckets, error) {
	var b accountBuckets
	var err error
	if b.accts, err = tx.bucket(bktAccounts); err != nil {
		return b, err
	}
	if b.cards, err = tx.bucket(bktCards); err != nil {
		return b, err
	}
	b.names, err = tx.bucket(bktNames)
	return b, err
}

// putAccountIn stores a in b over old (the stored account when existed),
// keeping b's indexes in step.
func (tx *Tx) putAccountIn(b accountBuckets, a, old *Account, existed bool) error {
	// Accounts are imported in number order and then rewritten in place
	// at about the same size: pages split at bbolt's default half full
	// would leave the bucket twice as large as its data, and every
	// approval writes its account's page (twice as many pages per group
	// commit where accounts share them). A page only splits when it
	// overflows, so the tenth left free is room for records to grow.
	b.accts.FillPercent = accountFill
	no := u64key(a.No)
	// The card index already points here when the card did not change.
	if a.CardNumber != "" && (!existed || old.CardNumber != a.CardNumber) {
		if v := b.cards.Get([]byte(a.CardNumber)); v != nil && !bytes.Equal(v, no) {
			return ErrCardInUse
		}
	}
	e := tx.scratch()
	e.account(a)
	if e.err != nil {
		return e.err
	}
	tx.keep(e)
	if existed {
		if old.CardNumber != "" && old.CardNumber != a.CardNumber {
			if err := deleteIfPoints(b.cards, []byte(old.CardNumber), no); err != nil {
				return err
			}
		}
		ok, nk := nameKey(old.Name, old.StaffNo), nameKey(a.Name, a.StaffNo)
		if ok != nil && !bytes.Equal(ok, nk) {
			if err := deleteIfPoints(b.names, ok, no); err != nil {
				return err
			}
		}
	}
	// Index entries are written only when they change: a bbolt Put dirties
	// its page even for an equal value, and every purchase puts its account.
	if a.CardNumber != "" && (!existed || old.CardNumber != a.CardNumber) {
		if err := b.cards.Put([]byte(a.CardNumber), no); err != nil {
			return err
		}
	}
	if nk := nameKey(a.Name, a.StaffNo); nk != nil && (!existed || !bytes.Equal(nameKey(old.Name, old.StaffNo), nk)) {
		if err := b.names.Put(nk, no); err != nil {
			return err
		}
	}
	return b.accts.Put(no, e.b)
}

func deleteIfPoints(b *bolt.Bucket, key, no []byte) error {
	if bytes.Equal(b.Get(key), no) {
		return b.Delete(key)
	}
	return nil
}

// ForEachAccount calls fn for every account in account-number order and
// stops at the first error. The *Account is reused between calls.
func (tx *Tx) ForEachAccount(fn func(*Account) error) error {
	b, err := tx.bucket(bktAccounts)
	if err != nil {
		return err
	}
	var a Account
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := decodeAccount(v, &a); err != nil {
			return fmt.Errorf("account %x: %w", k, err)
		}
		if err := fn(&a); err != nil {
			return err
		}
	}
	return nil
}
