package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// An import of accounts is all-or-nothing, yet must not hold the single
// committer for the whole file: a 60,000-row import written in one
// transaction kept every POS request of its group commit waiting for it
// (hundreds of milliseconds). A large import is therefore staged and then
// switched:
//
//  1. plan: a read transaction finds the rows that change something
//     (re-importing the same file changes nothing and writes nothing);
//     up to ImportChunk of them are imported in one short transaction as
//     before;
//  2. stage: more rows are written to the staging bucket "import", a
//     chunk per commit;
//  3. build: the next generation of the accounts and their card and name
//     indexes is built under "import/new", a chunk of accounts per
//     commit, in account-number order: each live account with the file's
//     row over it. A card held twice in the result (a card of the file
//     that an account outside it holds) fails the import here, however
//     late in the file;
//  4. switch: one transaction of its own moves the live buckets aside,
//     the new ones into their place (bbolt moves a bucket by its root
//     page: the cost does not grow with the accounts), keeps the
//     blacklist in step and drops the staging.
//
// Until the switch, readers see only the old accounts. Writes to accounts
// while the import builds (purchases go on) go to the live accounts as
// always, and PutAccount repeats them in the part of the next generation
// already built (importMirror), so nothing written before the switch is
// lost by it: the import takes effect as of the switch. A write that
// would make a card held twice in the next generation fails the import,
// not the write. A crash or a failure before the switch leaves the live
// accounts untouched; whatever was staged is dropped (by the import that
// failed, or by the next writable Open).
//
// The staging layout (never present between imports):
//
//	import/state        cursor (u64) · flags (u8) · created (u64) · updated (u64)
//	import/rows/        account no (u64) -> Account: the file's row
//	import/new/         accounts, cards, names of the next generation
//	import/watch/       account no -> nil: listed lost before or after (blacklist)
//	import/old/         the live generation, moved aside by the switch
var bktImport = []byte("import")

var (
	keyImportState = []byte("state")
	bktImportRows  = []byte("rows")
	bktImportNew   = []byte("new")
	bktImportWatch = []byte("watch")
	bktImportOld   = []byte("old")
	accountSet     = [][]byte{bktAccounts, bktCards, bktNames}
)

// ImportChunk bounds the accounts one commit of an import writes, so that
// requests queued behind it wait a few milliseconds at most.
const ImportChunk = 500

// errImportGone: the staging disappeared under the import.
var errImportGone = errors.New("store: staged import is gone")

// ImportOptions tune DB.Import.
type ImportOptions struct {
	// Now stamps the accounts the import changes (default time.Now).
	Now time.Time
	// Blacklist keeps the blacklist in step with the lost status: a card
	// the import makes lost goes on the list, and a listed card whose
	// account the import makes active again with the same card comes
	// off. A listed card the import replaces by another stays listed: it
	// is still the lost piece of plastic.
	Blacklist bool
	// Final, if set, runs in the transaction that makes the import live,
	// after it (the service API journals the import there). An error
	// from it fails the import: nothing is imported.
	Final func(tx *Tx, r ImportResult) error
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated int
	// BlacklistChanged: ImportOptions.Blacklist changed the list.
	BlacklistChanged bool
}

// ImportAccounts creates or updates accounts from an imported list (parse
// and validate it first: store/accountscsv). It is all-or-nothing: if any
// row cannot be stored (a card number held by an account outside the list,
// say), nothing is imported. A large list is committed in chunks and made
// live in one short final step (see the top of import.go), so POS traffic
// is not held up by it.
//
// It is idempotent by account number. A new account is created with the
// row's balance. For an existing account only name, staff number, card
// number and serial and status are updated; the balance is never touched
// (the store is the ledger: an import must not overwrite money moved since
// the file was made). Importing the same list again changes nothing and
// reports 0 created, 0 updated. Cards may move between accounts of the
// same list (two accounts swapping cards is allowed).
func (db *DB) ImportAccounts(ctx context.Context, rows []Account) (created, updated int, err error) {
	r, err := db.Import(ctx, rows, ImportOptions{})
	return r.Created, r.Updated, err
}

// Import is ImportAccounts with options. Imports run one at a time.
func (db *DB) Import(ctx context.Context, rows []Account, o ImportOptions) (ImportResult, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	now := o.Now.UTC()
	db.importMu.Lock()
	defer db.importMu.Unlock()
	changed, err := db.importPlan(rows)
	if err != nil {
		return ImportResult{}, err
	}
	if len(changed) <= db.importChunk() {
		return db.importDirect(ctx, changed, now, o)
	}
	return db.importStaged(ctx, changed, now, o)
}

func (db *DB) importChunk() int {
	if db.opt.importChunk > 0 {
		return db.opt.importChunk
	}
	return ImportChunk
}

// importPlan returns the rows that change something, checked as
// PutAccount would. It reads a snapshot: a row it finds unchanged is one
// the import leaves as it was, whatever happens to its account later.
func (db *DB) importPlan(rows []Account) ([]Account, error) {
	var changed []Account
	err := db.View(func(tx *Tx) error {
		accts, err := tx.bucket(bktAccounts)
		if err != nil {
			return err
		}
		changed = changed[:0]
		for i := range rows {
			r := &rows[i]
			if err := checkAccount(r); err != nil {
				return fmt.Errorf("import account %d: %w", r.No, err)
			}
			a, ok, err := getAccount(accts, r.No)
			if err != nil {
				return err
			}
			if !ok || !sameImported(&a, r) {
				changed = append(changed, *r)
			}
		}
		return nil
	})
	return changed, err
}

// importDirect imports a few rows in one transaction.
func (db *DB) importDirect(ctx context.Context, rows []Account, now time.Time, o ImportOptions) (ImportResult, error) {
	var res ImportResult
	err := db.Update(ctx, func(tx *Tx) error {
		res = ImportResult{}
		var err error
		if o.Blacklist {
			if res.BlacklistChanged, err = tx.importBlacklist(rows, now); err != nil {
				return err
			}
		}
		if res.Created, res.Updated, err = tx.ImportAccounts(rows, now); err != nil {
			return err
		}
		if o.Final != nil {
			return o.Final(tx, res)
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// importStaged stages, builds and switches (see the top of the file).
func (db *DB) importStaged(ctx context.Context, rows []Account, now time.Time, o ImportOptions) (res ImportResult, err error) {
	// Account order, the last row of a number winning as it would in one
	// transaction.
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b Account) int { return cmp.Compare(a.No, b.No) })
	w := 0
	for i := range rows {
		if i+1 < len(rows) && rows[i+1].No == rows[i].No {
			continue
		}
		rows[w] = rows[i]
		w++
	}
	rows = rows[:w]
	chunk := db.importChunk()
	step := func(phase string) {
		if db.opt.importStep != nil {
			db.opt.importStep(phase)
		}
	}

	db.importing.Store(true)
	defer db.importing.Store(false)
	defer func() {
		if err != nil {
			// Nothing became live; drop the staging. If the store is
			// closed, the next Open drops it.
			_ = db.Update(context.WithoutCancel(ctx), func(tx *Tx) error { return tx.importDrop() })
		}
	}()

	if err = db.Update(ctx, func(tx *Tx) error { return tx.importBegin() }); err != nil {
		return ImportResult{}, err
	}
	for i := 0; i < len(rows); i += chunk {
		part := rows[i:min(i+chunk, len(rows))]
		if err = db.Update(ctx, func(tx *Tx) error { return tx.importStage(part, now) }); err != nil {
			return ImportResult{}, err
		}
		step("stage")
	}
	for done := false; !done; {
		err = db.Update(ctx, func(tx *Tx) error {
			var err error
			done, err = tx.importBuild(chunk)
			return err
		})
		if err != nil {
			return ImportResult{}, err
		}
		step("build")
	}
	err = db.update(ctx, func(tx *Tx) error {
		var err error
		if res, err = tx.importSwitch(now, o.Blacklist); err != nil {
			return err
		}
		if o.Final != nil {
			return o.Final(tx, res)
		}
		return nil
	}, true)
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// importState is the staging's progress.
type importState struct {
	cursor           uint64 // the last account number built into the next generation
	done             bool   // every account is built; PutAccount keeps them in step
	failed           bool   // a write made a card held twice in the next generation
	created, updated int64
}

func readImportState(stage *bolt.Bucket) (importState, error) {
	v := stage.Get(keyImportState)
	if len(v) != 25 {
		return importState{}, fmt.Errorf("%w: import state", ErrCorruptValue)
	}
	return importState{
		cursor:  binary.BigEndian.Uint64(v),
		done:    v[8]&1 != 0,
		failed:  v[8]&2 != 0,
		created: int64(binary.BigEndian.Uint64(v[9:])),
		updated: int64(binary.BigEndian.Uint64(v[17:])),
	}, nil
}

func (st *importState) save(stage *bolt.Bucket) error {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 25), st.cursor)
	var flags byte
	if st.done {
		flags |= 1
	}
	if st.failed {
		flags |= 2
	}
	v = append(v, flags)
	v = binary.BigEndian.AppendUint64(v, uint64(st.created))
	v = binary.BigEndian.AppendUint64(v, uint64(st.updated))
	return stage.Put(keyImportState, v)
}

// importClass is what the import does to one account.
type importClass uint8

const (
	importNone    importClass = iota // not in the file
	importSame                       // in the file, already as it says
	importCreated                    // in the file, new
	importUpdated                    // in the file, changed
)

func (st *importState) count(c importClass, d int64) {
	switch c {
	case importCreated:
		st.created += d
	case importUpdated:
		st.updated += d
	}
}

// mergeImport is the account as the import leaves it: live (nil: there is
// none) with row (nil: not in the file) over it, as Tx.ImportAccounts
// does. row.Updated is the import's time.
func mergeImport(live, row *Account) (Account, importClass) {
	switch {
	case row == nil:
		return live.clone(), importNone
	case live == nil:
		return Account{No: row.No, BalanceFen: row.BalanceFen, Name: row.Name, StaffNo: row.StaffNo,
			Status: row.Status, CardNumber: row.CardNumber, CardSerial: row.CardSerial, Updated: row.Updated}, importCreated
	case sameImported(live, row):
		return live.clone(), importSame
	}
	a := live.clone()
	a.Name, a.StaffNo, a.Status = row.Name, row.StaffNo, row.Status
	a.CardNumber, a.CardSerial = row.CardNumber, row.CardSerial
	a.Updated = row.Updated
	return a, importUpdated
}

// staged returns the staging bucket and its next generation.
func (tx *Tx) staged() (*bolt.Bucket, accountBuckets, error) {
	stage := tx.btx.Bucket(bktImport)
	if stage == nil {
		return nil, accountBuckets{}, errImportGone
	}
	nb := stage.Bucket(bktImportNew)
	if nb == nil {
		return nil, accountBuckets{}, fmt.Errorf("%w: staged import without its accounts", ErrCorrupt)
	}
	b := accountBuckets{accts: nb.Bucket(bktAccounts), cards: nb.Bucket(bktCards), names: nb.Bucket(bktNames)}
	if b.accts == nil || b.cards == nil || b.names == nil {
		return nil, accountBuckets{}, fmt.Errorf("%w: staged import without its accounts", ErrCorrupt)
	}
	return stage, b, nil
}

func (tx *Tx) importDrop() error {
	if tx.btx.Bucket(bktImport) == nil {
		return nil
	}
	return tx.btx.DeleteBucket(bktImport)
}

func (tx *Tx) importBegin() error {
	if err := tx.importDrop(); err != nil {
		return err
	}
	stage, err := tx.btx.CreateBucket(bktImport)
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bktImportRows, bktImportWatch} {
		if _, err := stage.CreateBucket(name); err != nil {
			return err
		}
	}
	nb, err := stage.CreateBucket(bktImportNew)
	if err != nil {
		return err
	}
	for _, name := range accountSet {
		if _, err := nb.CreateBucket(name); err != nil {
			return err
		}
	}
	var st importState
	return st.save(stage)
}

// importStage writes rows (in account order) to the staging.
func (tx *Tx) importStage(rows []Account, now time.Time) error {
	stage, _, err := tx.staged()
	if err != nil {
		return err
	}
	b := stage.Bucket(bktImportRows)
	b.FillPercent = 1 // appended in key order
	for i := range rows {
		r := rows[i]
		r.Updated = now
		e := tx.scratch()
		e.account(&r)
		if e.err != nil {
			return e.err
		}
		tx.keep(e)
		if err := b.Put(u64key(r.No), e.b); err != nil {
			return err
		}
	}
	return nil
}

func stagedRow(rows *bolt.Bucket, no uint64) (*Account, error) {
	v := rows.Get(u64key(no))
	if v == nil {
		return nil, nil
	}
	var r Account
	if err := decodeAccount(v, &r); err != nil {
		return nil, fmt.Errorf("staged row %d: %w", no, err)
	}
	return &r, nil
}

// importBuild builds up to n more accounts of the next generation and
// reports whether every account is built.
func (tx *Tx) importBuild(n int) (bool, error) {
	stage, nb, err := tx.staged()
	if err != nil {
		return false, err
	}
	st, err := readImportState(stage)
	if err != nil {
		return false, err
	}
	if st.failed {
		return false, fmt.Errorf("%w: a card of the file was given to another account while the import ran", ErrCardInUse)
	}
	if st.done {
		return true, nil
	}
	live, err := tx.bucket(bktAccounts)
	if err != nil {
		return false, err
	}
	nb.accts.FillPercent = accountFill
	rows, watch := stage.Bucket(bktImportRows), stage.Bucket(bktImportWatch)
	lc, rc := live.Cursor(), rows.Cursor()
	from := u64key(st.cursor + 1)
	lk, lv := lc.Seek(from)
	rk, rv := rc.Seek(from)
	for range n {
		if lk == nil && rk == nil {
			break
		}
		var la, ra *Account
		var no uint64
		switch {
		case rk == nil || lk != nil && binary.BigEndian.Uint64(lk) < binary.BigEndian.Uint64(rk):
			no = binary.BigEndian.Uint64(lk)
		default:
			no = binary.BigEndian.Uint64(rk)
		}
		if lk != nil && binary.BigEndian.Uint64(lk) == no {
			la = new(Account)
			if err := decodeAccount(lv, la); err != nil {
				return false, fmt.Errorf("account %d: %w", no, err)
			}
			lk, lv = lc.Next()
		}
		if rk != nil && binary.BigEndian.Uint64(rk) == no {
			ra = new(Account)
			if err := decodeAccount(rv, ra); err != nil {
				return false, fmt.Errorf("staged row %d: %w", no, err)
			}
			rk, rv = rc.Next()
		}
		m, class := mergeImport(la, ra)
		if err := tx.putAccountIn(nb, &m, &Account{}, false); err != nil {
			if errors.Is(err, ErrCardInUse) && ra == nil {
				return false, fmt.Errorf("import: a card of the file is held by account %d, which is not in it: %w", no, err)
			}
			return false, fmt.Errorf("import account %d: %w", no, err)
		}
		st.count(class, 1)
		if ra != nil && (ra.Status == StatusLost || la != nil && la.Status == StatusLost) {
			if err := watch.Put(u64key(no), nil); err != nil {
				return false, err
			}
		}
		st.cursor = no
	}
	st.done = lk == nil && rk == nil
	return st.done, st.save(stage)
}

// importMirror repeats a write of account a (old before it, if existed)
// in the next generation when that part of it is already built.
func (tx *Tx) importMirror(a, old *Account, existed bool) error {
	stage := tx.btx.Bucket(bktImport)
	if stage == nil {
		return nil
	}
	st, err := readImportState(stage)
	if err != nil {
		return err
	}
	if st.failed || !st.done && a.No > st.cursor {
		return nil // nothing to keep, or the build will read a as it is
	}
	_, nb, err := tx.staged()
	if err != nil {
		return err
	}
	row, err := stagedRow(stage.Bucket(bktImportRows), a.No)
	if err != nil {
		return err
	}
	m, class := mergeImport(a, row)
	prev, had, err := getAccount(nb.accts, a.No)
	if err != nil {
		return err
	}
	if err := tx.putAccountIn(nb, &m, &prev, had); err != nil {
		if !errors.Is(err, ErrCardInUse) {
			return err
		}
		// The write stands; the import cannot, and fails at its next step.
		st.failed = true
		return st.save(stage)
	}
	if row == nil {
		return nil
	}
	var before *Account
	if existed {
		before = old
	}
	if _, was := mergeImport(before, row); was != class {
		st.count(was, -1)
		st.count(class, 1)
		if err := st.save(stage); err != nil {
			return err
		}
	}
	if a.Status == StatusLost {
		return stage.Bucket(bktImportWatch).Put(u64key(a.No), nil)
	}
	return nil
}

// importSwitch makes the built generation live: the short final step.
func (tx *Tx) importSwitch(now time.Time, blacklist bool) (ImportResult, error) {
	stage, _, err := tx.staged()
	if err != nil {
		return ImportResult{}, err
	}
	st, err := readImportState(stage)
	if err != nil {
		return ImportResult{}, err
	}
	if st.failed {
		return ImportResult{}, fmt.Errorf("%w: a card of the file was given to another account while the import ran", ErrCardInUse)
	}
	if !st.done {
		return ImportResult{}, fmt.Errorf("store: staged import switched before it was built")
	}
	res := ImportResult{Created: int(st.created), Updated: int(st.updated)}
	if blacklist {
		// Only accounts lost before or after can change the list.
		rows := stage.Bucket(bktImportRows)
		var watched []Account
		err := stage.Bucket(bktImportWatch).ForEach(func(k, _ []byte) error {
			r, err := stagedRow(rows, binary.BigEndian.Uint64(k))
			if err == nil && r != nil {
				watched = append(watched, *r)
			}
			return err
		})
		if err != nil {
			return ImportResult{}, err
		}
		if res.BlacklistChanged, err = tx.importBlacklist(watched, now); err != nil {
			return ImportResult{}, err
		}
	}
	old, err := stage.CreateBucket(bktImportOld)
	if err != nil {
		return ImportResult{}, err
	}
	nb := stage.Bucket(bktImportNew)
	for _, name := range accountSet {
		if err := tx.btx.MoveBucket(name, nil, old); err != nil {
			return ImportResult{}, fmt.Errorf("import switch: %s aside: %w", name, err)
		}
		if err := tx.btx.MoveBucket(name, nb, nil); err != nil {
			return ImportResult{}, fmt.Errorf("import switch: %s live: %w", name, err)
		}
	}
	if err := tx.btx.DeleteBucket(bktImport); err != nil {
		return ImportResult{}, err
	}
	tx.acctOK, tx.acctDirty = false, false // the account cache held the old generation
	return res, nil
}

// importBlacklist puts the cards rows make lost on the blacklist and takes
// off those of accounts the rows make active again with the same card,
// before the rows are imported (ImportOptions.Blacklist). Removals go
// first, so a card that is both taken off one row and put on another ends
// listed. It reports whether the list changed.
func (tx *Tx) importBlacklist(rows []Account, now time.Time) (bool, error) {
	type change struct {
		card string
		add  bool
	}
	var dels, adds []change
	for i := range rows {
		r := &rows[i]
		old, ok, err := tx.Account(r.No)
		if err != nil {
			return false, err
		}
		wasListed := ok && old.Status == StatusLost && old.CardNumber != ""
		isListed := r.Status == StatusLost && r.CardNumber != ""
		sameCard := ok && old.CardNumber == r.CardNumber
		if wasListed && sameCard && !isListed {
			dels = append(dels, change{old.CardNumber, false})
		}
		if isListed && !(wasListed && sameCard) {
			adds = append(adds, change{r.CardNumber, true})
		}
	}
	for _, c := range append(dels, adds...) {
		if _, err := tx.BlacklistAdd(c.card, c.add, now); err != nil {
			return false, err
		}
	}
	return len(dels)+len(adds) > 0, nil
}

// sameImported reports whether the imported fields already match.
func sameImported(a, r *Account) bool {
	return a.Name == r.Name && a.StaffNo == r.StaffNo && a.Status == r.Status &&
		a.CardNumber == r.CardNumber && a.CardSerial == r.CardSerial
}
