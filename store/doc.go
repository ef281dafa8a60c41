// Package store is the gateway's durable state on a single bbolt file:
// accounts and their card index, the append-only journal and its outbox,
// idempotency answers together with the state of approved transactions
// (for refunds, reversals and settlement totals), reversal tombstones,
// terminal sessions (working keys sealed with AES-256-GCM), batches, the
// campus-code replay record, the blacklist, stand-in exposure, dead
// letters and small settings.
//
// # Layout for throughput
//
// Every page a commit touches is written and fsynced, so an approval is
// laid out to dirty as few pages as it can: its answer and transaction
// state share one idempotency value; the journal and the outbox only grow
// at their ends; a person's history is a chain through the journal
// (Record.PrevSeq, Account.LastSeq) rather than a separate index; batch
// totals are added up at settlement from the transaction states instead of
// being rewritten per request. Idempotency values, keyed terminal first,
// would dirty one page per terminal per commit; they are appended to small
// per-range logs and merged into their bucket a range at a time, a slice
// per commit in the same fsynced transactions (idemlog.go), so a commit
// carrying a thousand terminals' approvals writes a few dozen idempotency
// pages, not a thousand. Append-only buckets are filled to 95 % before a page splits.
//
// # Use
//
//	db, err := store.Open(path, store.Options{StorageKey: key}) // ErrNewerSchema, ErrCorrupt, ErrLocked
//	err = db.Update(ctx, func(tx *store.Tx) error { ... })        // fsynced before it returns
//	err = db.UpdateAsync(ctx, fn, func(err error) { ... })         // then runs once fsynced
//	err = db.View(func(tx *store.Tx) error { ... })
//	defer db.Close()                                               // commits what is queued
//
// Inside a Tx: accounts (Account, AccountByCard, AccountByNameStaff,
// PutAccount, ForEachAccount), the journal (AppendJournal, JournalSince,
// LastJournal, AccountJournal, JournalLen, Outbox, DeleteOutbox),
// idempotency (Idem, PutIdem), approved transactions (Txn, PutTxn,
// TxnsOfBatch), reversal tombstones,
// sessions, batch totals, the RRN counter, the replay record and small
// settings (Meta, PutMeta). Accounts are imported with DB.ImportAccounts
// and the replay record is purged with DB.PurgeReplay.
//
// # Durability
//
// Every write goes through [DB.Update], which is a group commit: a single
// committer goroutine runs the queued functions of many callers in one
// bbolt read-write transaction and commits it (bbolt writes and fsyncs the
// file) before any of those callers returns. An approval is therefore on
// disk before the answer leaves, and the cost of one fsync is shared by
// everyone who queued while the previous one ran. [DB.UpdateAsync] is the
// same group commit for a caller that does not wait: its continuation runs
// on the store's completer goroutine, beside the committer, once the group
// is fsynced (or failed), so a caller holds no goroutine while its group
// commits. NoSync and NoFreelistSync are never used.
//
// # The Update contract
//
// The function given to Update may be run more than once: when another
// function in the same group fails, the shared transaction is rolled back
// and the rest of the group is run again; the failing function is then run
// again alone and its caller gets that result. So a function must be
// deterministic given the store state, must have no side effects outside
// the [Tx] (no channel sends, no network, no counters) and must decide
// before it writes. Values a function computes for its caller should be
// assigned to captured variables afresh on each run. A business decline is
// a result to journal, not an error: an error from a function (or from the
// commit) means the request could not be recorded and is answered 96.
//
// The function runs on the committer goroutine: it must not call Update
// or View on the same DB (that deadlocks), and it should be quick, since
// every caller of the group waits for the slowest function. The same
// holds for UpdateAsync's functions; its continuations must not call
// Update (they run one after another on the completer, which the
// committer hands each finished group to).
//
// A [Tx] is valid only until the function returns. Values a Tx returns are
// copies (safe to keep), and times come back in UTC with the monotonic
// reading dropped.
//
// # Encoding
//
// Values use a compact hand-written binary encoding (a version byte first,
// then fixed-width big-endian integers and u16-length-prefixed strings).
// Decoders never panic on corrupt bytes; they return [ErrCorruptValue].
//
// # Not for
//
// The store does not decide anything: business rules live in gateway/txn.
// It does not forward the journal (the outbox bucket only records what is
// to be sent) and it is not a replica protocol. It does not log.
package store
