package refcentre

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"ecardgw/gateway/centre"
	"ecardgw/gateway/txn"
	"ecardgw/store"
)

// account is one account in the centre's ledger.
type account struct {
	No          uint64    `json:"no"`
	Name        string    `json:"name"`
	StaffNo     string    `json:"staff_no"`
	CardNumber  string    `json:"card_number"`
	CardSerial  string    `json:"card_serial"`
	BalanceFen  int64     `json:"balance_fen"`
	WalletFen   int64     `json:"wallet_fen"`
	Status      string    `json:"status"`
	ECardActive bool      `json:"ecard_active"`
	Version     uint64    `json:"version"`
	Updated     time.Time `json:"updated"`
}

func (a *account) wire() centre.WireAccount {
	return centre.WireAccount{No: a.No, Name: a.Name, StaffNo: a.StaffNo, CardNumber: a.CardNumber,
		CardSerial: a.CardSerial, BalanceFen: a.BalanceFen, WalletFen: a.WalletFen, Status: a.Status,
		ECardActive: a.ECardActive, Version: a.Version}
}

func (a *account) result(rc txn.RC) centre.WireAuthResult {
	return centre.WireAuthResult{RC: rc, Account: a.No, BalanceFen: a.BalanceFen, WalletFen: a.WalletFen,
		Status: a.Status, ECardActive: a.ECardActive, Version: a.Version}
}

// ledgerTx wraps one bbolt transaction with the centre's helpers.
type ledgerTx struct {
	tx  *bolt.Tx
	now time.Time
}

func (l ledgerTx) account(no uint64) (account, bool, error) {
	var a account
	ok, err := getJSON(l.tx.Bucket(bktAccounts), u64(no), &a)
	return a, ok, err
}

func (l ledgerTx) accountByCard(card string) (account, bool, error) {
	if card == "" {
		return account{}, false, nil
	}
	no := l.tx.Bucket(bktCards).Get([]byte(card))
	if len(no) != 8 {
		return account{}, false, nil
	}
	return l.account(binary.BigEndian.Uint64(no))
}

// find resolves a request's account: by number when given, else by card.
func (l ledgerTx) find(no uint64, card string) (account, bool, error) {
	if no != 0 {
		return l.account(no)
	}
	return l.accountByCard(card)
}

// put stores a changed account under a new version, so that replicas
// asking for changes since their version see it.
func (l ledgerTx) put(a *account, old *account) error {
	vers := l.tx.Bucket(bktVersions)
	if old != nil && old.Version != 0 {
		if err := vers.Delete(u64(old.Version)); err != nil {
			return err
		}
	}
	v, err := vers.NextSequence()
	if err != nil {
		return err
	}
	a.Version, a.Updated = v, l.now
	if err := vers.Put(u64(v), u64(a.No)); err != nil {
		return err
	}
	cards := l.tx.Bucket(bktCards)
	if old != nil && old.CardNumber != a.CardNumber && old.CardNumber != "" {
		// Only if it still points here: in an import that swaps two
		// cards the other account may already have taken it.
		if v := cards.Get([]byte(old.CardNumber)); len(v) == 8 && binary.BigEndian.Uint64(v) == a.No {
			if err := cards.Delete([]byte(old.CardNumber)); err != nil {
				return err
			}
		}
	}
	if a.CardNumber != "" {
		if err := cards.Put([]byte(a.CardNumber), u64(a.No)); err != nil {
			return err
		}
	}
	return putJSON(l.tx.Bucket(bktAccounts), u64(a.No), a)
}

// Import creates or updates accounts (parsed with store/accountscsv). Like
// the gateway's import it never overwrites the balance of an existing
// account: the centre is the ledger. All rows or none.
func (c *Centre) Import(rows []store.Account) (created, updated int, err error) {
	err = c.db.Update(func(tx *bolt.Tx) error {
		created, updated = 0, 0
		l := ledgerTx{tx: tx, now: c.now()}
		for i := range rows {
			r := &rows[i]
			if r.No == 0 {
				return fmt.Errorf("%w: account 0", ErrBadRequest)
			}
			old, ok, err := l.account(r.No)
			if err != nil {
				return err
			}
			if owner, taken, err := l.accountByCard(r.CardNumber); err != nil {
				return err
			} else if taken && owner.No != r.No && !inRows(rows, owner.No) {
				return fmt.Errorf("%w: row %d: card number belongs to account %d", ErrConflict, i+1, owner.No)
			}
			a := account{No: r.No, Name: r.Name, StaffNo: r.StaffNo, CardNumber: r.CardNumber,
				CardSerial: r.CardSerial, BalanceFen: r.BalanceFen, Status: r.Status.String(),
				ECardActive: r.ECardActive}
			if !ok {
				created++
				if a.Status == "lost" && a.CardNumber != "" {
					if _, err := l.blacklistAdd(a.CardNumber, true); err != nil {
						return err
					}
				}
				if err := l.put(&a, nil); err != nil {
					return err
				}
				continue
			}
			if old.Name == a.Name && old.StaffNo == a.StaffNo && old.CardNumber == a.CardNumber &&
				old.CardSerial == a.CardSerial && old.Status == a.Status {
				continue
			}
			updated++
			if wasLost, isLost := old.Status == "lost", a.Status == "lost"; (wasLost != isLost || old.CardNumber != a.CardNumber) && (wasLost || isLost) {
				// The blacklist follows the imported status: the old card
				// comes off, the (new) card goes on.
				if wasLost && old.CardNumber != "" {
					if _, err := l.blacklistAdd(old.CardNumber, false); err != nil {
						return err
					}
				}
				if isLost && a.CardNumber != "" {
					if _, err := l.blacklistAdd(a.CardNumber, true); err != nil {
						return err
					}
				}
			}
			n := old
			n.Name, n.StaffNo, n.CardNumber, n.CardSerial, n.Status = a.Name, a.StaffNo, a.CardNumber, a.CardSerial, a.Status
			if err := l.put(&n, &old); err != nil {
				return err
			}
		}
		return nil
	})
	return created, updated, err
}

func inRows(rows []store.Account, no uint64) bool {
	for i := range rows {
		if rows[i].No == no {
			return true
		}
	}
	return false
}

// Account returns one account as the snapshot shows it.
func (c *Centre) Account(no uint64) (centre.WireAccount, bool, error) {
	var (
		a  account
		ok bool
	)
	err := c.db.View(func(tx *bolt.Tx) error {
		var err error
		a, ok, err = ledgerTx{tx: tx}.account(no)
		return err
	})
	return a.wire(), ok, err
}

// SetStatus changes an account's status ("active", "frozen", "lost",
// "cancelled"). Setting "lost" or back to "active" from "lost" also
// changes the blacklist.
func (c *Centre) SetStatus(no uint64, status string) (centre.WireAccount, error) {
	if _, err := store.ParseStatus(status); err != nil {
		return centre.WireAccount{}, fmt.Errorf("%w: unknown status", ErrBadRequest)
	}
	var a account
	err := c.db.Update(func(tx *bolt.Tx) error {
		l := ledgerTx{tx: tx, now: c.now()}
		old, ok, err := l.account(no)
		if err != nil {
			return err
		}
		if !ok {
			return ErrUnknownAccount
		}
		a = old
		if a.Status == status {
			return nil
		}
		wasLost, isLost := old.Status == "lost", status == "lost"
		a.Status = status
		if wasLost != isLost && a.CardNumber != "" {
			if _, err := l.blacklistAdd(a.CardNumber, isLost); err != nil {
				return err
			}
		}
		return l.put(&a, &old)
	})
	return a.wire(), err
}

// ReportLoss reports the card lost (lost true) or cancels the report; the
// card goes on or off the blacklist with a new version, which it returns.
func (c *Centre) ReportLoss(card string, lost bool) (uint32, error) {
	var ver uint32
	err := c.db.Update(func(tx *bolt.Tx) error {
		l := ledgerTx{tx: tx, now: c.now()}
		old, ok, err := l.accountByCard(card)
		if err != nil {
			return err
		}
		if !ok {
			return ErrUnknownAccount
		}
		a := old
		switch {
		case lost && a.Status == "active":
			a.Status = "lost"
		case !lost && a.Status == "lost":
			a.Status = "active"
		}
		if ver, err = l.blacklistAdd(card, lost); err != nil {
			return err
		}
		return l.put(&a, &old)
	})
	return ver, err
}

// snapshot reads one page of accounts changed after since.
func (c *Centre) snapshot(since uint64, limit int) (centre.WireAccountsPage, error) {
	page := centre.WireAccountsPage{Accounts: []centre.WireAccount{}}
	err := c.db.View(func(tx *bolt.Tx) error {
		l := ledgerTx{tx: tx}
		vers := tx.Bucket(bktVersions)
		page.Version = vers.Sequence()
		cur := vers.Cursor()
		for k, v := cur.Seek(u64(since + 1)); k != nil; k, v = cur.Next() {
			if len(page.Accounts) == limit {
				page.More = true
				return nil
			}
			if len(v) != 8 {
				return ErrCorrupt
			}
			a, ok, err := l.account(binary.BigEndian.Uint64(v))
			if err != nil {
				return err
			}
			if !ok {
				return ErrCorrupt
			}
			page.Accounts = append(page.Accounts, a.wire())
		}
		return nil
	})
	return page, err
}

// Balances returns every account's balance, for comparing the centre's
// ledger with a gateway's.
func (c *Centre) Balances() (map[uint64]int64, error) {
	out := map[uint64]int64{}
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktAccounts).ForEach(func(_, v []byte) error {
			var a account
			if err := json.Unmarshal(v, &a); err != nil {
				return ErrCorrupt
			}
			out[a.No] = a.BalanceFen
			return nil
		})
	})
	return out, err
}
