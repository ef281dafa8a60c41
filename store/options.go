package store

import "time"

// Options configure Open. The zero value is a writable store with group
// commit defaults and no storage key (sessions cannot be stored).
type Options struct {
	// StorageKey is the 32-byte AES-256-GCM key that seals session working
	// keys at rest. Empty: Session and PutSession return ErrNoStorageKey.
	StorageKey []byte
	// MaxBatch is the most Update functions run in one bbolt transaction
	// (default 1024).
	MaxBatch int
	// MaxDelay is how long the committer waits to fill a batch (default 0:
	// commit as soon as the committer is free; while one fsync runs the
	// next batch accumulates). It applies to every group, a lone request's
	// too; see Linger for waiting under load only.
	MaxDelay time.Duration
	// Linger is MaxDelay for a busy store only: when the previous group
	// had more than one function, the committer waits up to Linger for
	// more before committing (0: never). Every commit costs two fdatasyncs
	// and the pages it dirties whatever its size, so fewer, larger commits
	// save CPU; the wait adds to every request's latency under load (see
	// the gateway's store.group_commit_wait). A lone request on a quiet
	// store is committed at once.
	Linger time.Duration
	// ReadOnly opens the file shared and read-only; Update fails.
	ReadOnly bool
	// NoOutbox journals records without adding them to the outbox: for a
	// gateway that forwards to no sink, whose outbox nothing would ever
	// empty. Entries already in it stay.
	NoOutbox bool
	// OnCommit, if set, is called by the committer after each bbolt commit
	// with the number of functions in the group, the time from Begin to the
	// end of the fsync, and the commit error. It runs on the committer
	// goroutine: keep it cheap (a histogram observe).
	OnCommit func(groupSize int, d time.Duration, err error)
	// LockTimeout bounds the wait for another process's file lock
	// (default 2 s); then Open fails with ErrLocked.
	LockTimeout time.Duration
	// MaxSize caps the file size in bytes (0: no limit). A commit that
	// would grow the file beyond it fails like a full disk: every caller
	// of that group gets the error.
	MaxSize int
	// MmapSize is the address space mapped for the file at open (default
	// 1 GiB, at least the file's size); the file grows within it without
	// bbolt remapping. The file then grows in 16 MiB steps from the start;
	// with MaxSize set the default is bbolt's own (remap as it grows, the
	// file exactly as large as its data below 16 MiB).
	MmapSize int
	// SkipCheck skips bbolt's full consistency check at Open. The check
	// reads every page (the file is read in order first, so that a cold
	// start reads it at the disk's sequential speed: about half a second
	// for 200 MiB on the benchmark machine); skip it only for tools that
	// open the file repeatedly.
	SkipCheck bool
	// CheckWait, when positive, lets a writable Open return before the
	// consistency check is done: the check runs over a pinned snapshot of
	// the opened file (snapcheck.go), beside the committer, and Open
	// waits for it up to CheckWait. A check done by then decides Open's
	// result as always; one still running goes on behind, and if it finds
	// damage the store stops committing (Broken), a marker file
	// (DamagedMarker) is written, and OnCheck is told. While the marker is
	// there, Open checks every page before it returns, whatever
	// CheckWait. Zero: Open returns after the whole check.
	CheckWait time.Duration
	// OnCheck, if set, is called once with the result of a check that
	// was still running when Open returned (nil: the file passed), from
	// the check's goroutine. Not called for a check Open waited out, nor
	// for one stopped by Close.
	OnCheck func(err error, st CheckStats)
	// FailAfterCommit, if set, is asked after each successful bbolt
	// commit; an error is reported as that commit's failure, the way bbolt
	// reports a failed fsync of a meta page it already wrote. Fault
	// injection for the tests of the layers above; nil in production.
	FailAfterCommit func() error

	// mergeAt overrides idemMergeAt (tests; 0: the default, below 0: 1).
	mergeAt int
	// mergeStep overrides idemMergeStep (tests; 0: the default).
	mergeStep int
	// mergeLast overrides idemMergeLast (tests; 0: the default).
	mergeLast int
	// commitFault, if set, is asked before each commit; an error fails
	// that commit as a full disk would (tests).
	commitFault func() error
	// prewarmed, if set, is told what Open read ahead of its consistency
	// check (tests).
	prewarmed func(warmed)
	// importChunk, if set, replaces ImportChunk; importStep, if set, is
	// called between the commits of a staged import with its phase.
	importChunk int
	importStep  func(phase string)
}

const (
	defaultMaxBatch    = 1024
	defaultLockTimeout = 2 * time.Second
	defaultMmapSize    = 1 << 30
)

func (o Options) withDefaults() Options {
	if o.MaxBatch <= 0 {
		o.MaxBatch = defaultMaxBatch
	}
	if o.MmapSize <= 0 && o.MaxSize <= 0 {
		o.MmapSize = defaultMmapSize
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = defaultLockTimeout
	}
	switch {
	case o.mergeAt == 0:
		o.mergeAt = idemMergeAt
	case o.mergeAt < 0:
		o.mergeAt = 1
	}
	if o.mergeStep <= 0 {
		o.mergeStep = idemMergeStep
	}
	if o.mergeLast <= 0 {
		o.mergeLast = idemMergeLast
	}
	return o
}
