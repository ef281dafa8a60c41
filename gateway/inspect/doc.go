// Package inspect reads a gateway's store for the operator without
// stopping the gateway: journal exports for reconciliation (CSV, JSON
// Lines, a short text form for `ecardgw journal tail`), online backups,
// restore and a consistency check of the store file.
//
// Each operation works two ways. While the gateway runs, bbolt's file lock
// keeps every other process out of the store (even read-only), so the
// daemon serves JournalHandler and BackupHandler on its loopback admin
// listener and the command line calls FetchJournal and FetchBackup. While
// it is stopped, the command line opens the file itself and uses Export,
// Tail and DB.Backup. Both paths write records with the same Writer, so an
// export looks the same either way.
//
// Records are read in pages of short read transactions: a long read
// transaction would make a commit that grows the file wait (bbolt's remap)
// and so stall the terminals. A backup is the exception — it must be one
// transaction to be consistent — so its writes are bounded by a deadline,
// the whole transfer by a time limit (admin.transfer_timeout) that cuts
// off a reader which stalls or crawls, and only one backup runs at a
// time. The daemon serves both handlers only to an admin token (package
// admin); FetchJournal and FetchBackup send it.
//
// Exports carry card numbers only masked (as the journal stores them, and
// masked again as a safety net), money as integer fen and times as UTC
// RFC 3339. This package is not for changing the store: restore replaces
// the whole file, and nothing here edits records.
package inspect
