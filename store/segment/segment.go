// Package segment is the file format of a journal of record: groups of
// records appended to preallocated segment files, each group made durable
// by one sequential write and one fdatasync.
//
// It is the first part of the store issue #21 leads to (docs/ARCHITECTURE.md,
// "The way there", step 2): the journal file as the record, written once per
// group commit, with the state checkpointed behind it. The store does not
// write through it yet; its promises are the ones that store needs:
//
//   - A group is durable when Commit returns nil, and only then: its bytes
//     and the fdatasync that covers them are done.
//   - A group is all or nothing. A crash while a group is written leaves a
//     torn tail — a group whose checksum fails with nothing valid after it
//     — which Open cuts off: that group was never committed, so nobody was
//     told it was.
//   - A group whose checksum fails with a valid group after it is not a
//     torn tail but damage to what was committed: Open (for the newest
//     segment) and Scan (for any) stop with a *CorruptError naming the
//     file and offset, and nothing is cut off or overwritten.
//   - A full disk fails the Commit that needed the space, with the group
//     not written; the log stays usable (space is taken a whole segment at
//     a time, when a segment is created, so a write into a segment never
//     needs more).
//
// # Layout
//
// A log is a directory of segment files named by the sequence number of
// their first group (%016x.seg). A segment is preallocated to
// Options.SegmentSize (larger only for a group that needs it), starts with
// a 32-byte header and holds groups back to back, each padded to 8 bytes;
// what follows the last group is zeros.
//
//	segment header: magic "ECGWSEG1" (8) · version u32 · reserved u32 ·
//	                first group seq u64 · reserved u32 · CRC-32C of the
//	                preceding 28 bytes u32
//	group:          magic u32 · payload length u32 · seq u64 · records u32 ·
//	                CRC-32C u32 (of the 16 bytes from the length on and the
//	                payload) · payload · zero padding to 8
//	payload:        records × (length u32 · bytes)
//
// All integers are big-endian. Group sequence numbers start at 1 and grow
// by one per group, across segments.
package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	segMagic    = "ECGWSEG1"
	segVersion  = 1
	segHeader   = 32
	groupMagic  = 0xEC6A0B01
	groupHeader = 24
	// DefaultSegmentSize is the preallocation of a segment: at ~300 bytes
	// a record, some 200,000 records.
	DefaultSegmentSize = 64 << 20
	// MaxRecord bounds one record (and so what a length field may claim).
	MaxRecord = 1 << 20
	// maxGroupPayload bounds a group's payload, so that no length read from
	// a damaged file makes the reader allocate more.
	maxGroupPayload = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrUncertain: a write or fdatasync failed after the group's bytes began
// to reach the file, so whether the group is durable cannot be told. The
// log takes no more groups; reopen it (after a restart) and Open will find
// the group whole or torn.
var ErrUncertain = errors.New("segment: commit uncertain after a failed write or fdatasync")

// ErrClosed is returned by a closed log.
var ErrClosed = errors.New("segment: log closed")

// CorruptError is damage inside what was committed: a group that fails its
// checksum (or is malformed) with a valid group after it, a segment whose
// header is wrong, or a gap in the sequence numbers.
type CorruptError struct {
	File   string // the segment file
	Offset int64  // where the bad group (or header) begins
	Seq    uint64 // the sequence number expected there (0 if unknown)
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("segment: %s at offset %d (group %d expected): %s; the journal is damaged before its end, restore it from a backup", e.File, e.Offset, e.Seq, e.Reason)
}

// Options tunes a log. The zero value is usable.
type Options struct {
	// SegmentSize is how much a new segment preallocates (default
	// DefaultSegmentSize).
	SegmentSize int64
	// DSync opens segments O_DSYNC, so that the write of a group is its
	// sync, instead of a write then an fdatasync (BenchmarkCommit measures
	// both).
	DSync bool

	// fault, when set, is called before each file operation named by op
	// ("create", "write", "sync"); a non-nil error is returned as if the
	// operation had failed with it (tests: full disk, failed fsync).
	fault func(op string) error
}

// Pos is where a group lies: its segment (named by the segment's first
// group) and offset in it.
type Pos struct {
	Segment uint64
	Offset  int64
}

// Log is an open journal directory. Append and Commit are for one writer
// (the store's committer); Scan may run beside them and sees groups up to
// the last one committed when it began.
type Log struct {
	dir    string
	opt    Options
	f      *os.File // the newest segment
	size   int64    // its size
	buf    []byte   // the pending group: header space, then its records
	n      int      // records in buf
	bad    bool     // a commit was uncertain
	closed bool
	// torn is what Open cut off (0: nothing).
	torn int64

	// mu guards what Scan reads beside the writer.
	mu   sync.Mutex
	seg  uint64 // the newest segment's first group's seq (its name)
	off  int64  // where the next group goes
	next uint64 // the next group's seq
}

func segName(first uint64) string { return fmt.Sprintf("%016x.seg", first) }

// Open opens (creating if need be) the log in dir. It reads the newest
// segment to its end: a torn tail is cut off (TornBytes says how much), a
// damaged group before the end stops it with a *CorruptError.
func Open(dir string, opt Options) (*Log, error) {
	if opt.SegmentSize <= 0 {
		opt.SegmentSize = DefaultSegmentSize
	}
	if opt.SegmentSize < segHeader+groupHeader+8 {
		return nil, fmt.Errorf("segment: segment size %d too small", opt.SegmentSize)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	l := &Log{dir: dir, opt: opt, next: 1}
	segs, err := l.segments()
	if err != nil {
		return nil, err
	}
	var empty []string // newest segments of zeros only
	for len(segs) > 0 {
		last := segs[len(segs)-1]
		f, err := l.openFile(last, false)
		if err != nil {
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		end, next, err := l.recoverTail(f, last, st.Size())
		if errors.Is(err, errEmpty) {
			_ = f.Close()
			empty = append(empty, f.Name())
			segs = segs[:len(segs)-1]
			continue
		}
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		l.f, l.seg, l.size, l.off, l.next = f, last, st.Size(), end, next
		break
	}
	// A crash while a segment was being created, before its header was
	// synced, leaves a file of zeros named for the group that was to go
	// into it: nothing was committed there, and it goes. A file of zeros
	// under any other name is a segment that lost what it held.
	for _, name := range empty {
		if name != filepath.Join(dir, segName(l.next)) {
			l.closeFile()
			return nil, &CorruptError{File: name, Seq: l.next, Reason: "a segment of zeros only, after the groups that end before it"}
		}
	}
	for _, name := range empty {
		if err := os.Remove(name); err != nil {
			l.closeFile()
			return nil, err
		}
	}
	if len(empty) > 0 {
		if err := SyncDir(dir); err != nil {
			l.closeFile()
			return nil, err
		}
	}
	return l, nil
}

func (l *Log) closeFile() {
	if l.f != nil {
		_ = l.f.Close()
	}
}

// errEmpty: a segment of zeros only, header included.
var errEmpty = errors.New("segment: empty segment")

// TornBytes is how many bytes of a torn tail Open cut off (0 if none).
func (l *Log) TornBytes() int64 { return l.torn }

// Next is the sequence number the next committed group gets.
func (l *Log) Next() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// segments lists the segment files' first sequence numbers, ascending.
func (l *Log) segments() ([]uint64, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".seg") || len(name) != 16+4 {
			continue
		}
		n, err := strconv.ParseUint(name[:16], 16, 64)
		if err != nil || n == 0 {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

func (l *Log) openFile(first uint64, create bool) (*os.File, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE | os.O_EXCL
	}
	if l.opt.DSync {
		flag |= unix.O_DSYNC
	}
	return os.OpenFile(filepath.Join(l.dir, segName(first)), flag, 0o600)
}

// recoverTail reads segment first (size bytes) from its header to its end
// and returns where the next group goes and its sequence number. A torn
// tail is zeroed (so that no stale bytes follow the groups written next).
func (l *Log) recoverTail(f *os.File, first uint64, size int64) (end int64, next uint64, err error) {
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil {
		return 0, 0, err
	}
	name := f.Name()
	if err := checkHeader(data, first); err != nil {
		// A segment is created and its header synced before any group is
		// written to it, and a crash in between leaves a header of zeros:
		// an empty segment, nothing committed in it.
		if allZero(data) {
			return 0, 0, errEmpty
		}
		return 0, 0, &CorruptError{File: name, Offset: 0, Seq: first, Reason: err.Error()}
	}
	off, seq := int64(segHeader), first
	for {
		g, reason := parseGroup(data, off)
		if reason == "" && g.seq == seq {
			off, seq = g.end, seq+1
			continue
		}
		if reason == "" {
			// A whole group out of sequence is no torn write.
			return 0, 0, &CorruptError{File: name, Offset: off, Seq: seq,
				Reason: fmt.Sprintf("group %d out of sequence", g.seq)}
		}
		if allZero(data[off:]) {
			return off, seq, nil // the clean end
		}
		if at, ok := laterGroup(data, off, seq); ok {
			return 0, 0, &CorruptError{File: name, Offset: off, Seq: seq,
				Reason: fmt.Sprintf("%s, with a valid group after it at offset %d", reason, at)}
		}
		// A torn tail: the group the crash interrupted, never committed.
		last := lastNonZero(data, off)
		if err := zeroRange(f, off, last-off); err != nil {
			return 0, 0, err
		}
		l.torn = last - off
		return off, seq, nil
	}
}

// group is a parsed group's extent and header.
type group struct {
	seq     uint64
	records uint32
	payload []byte
	end     int64 // offset after its padding
}

// parseGroup reads the group at off; reason is empty if it is whole and
// its checksum holds.
func parseGroup(data []byte, off int64) (group, string) {
	if off+groupHeader > int64(len(data)) {
		return group{}, "truncated header"
	}
	h := data[off : off+groupHeader]
	if binary.BigEndian.Uint32(h[0:]) != groupMagic {
		return group{}, "no group header"
	}
	plen := int64(binary.BigEndian.Uint32(h[4:]))
	if plen > maxGroupPayload || pad8(off+groupHeader+plen) > int64(len(data)) {
		return group{}, "length beyond the segment"
	}
	payload := data[off+groupHeader : off+groupHeader+plen]
	if crcOf(h[4:20], payload) != binary.BigEndian.Uint32(h[20:]) {
		return group{}, "checksum mismatch"
	}
	g := group{seq: binary.BigEndian.Uint64(h[8:]), records: binary.BigEndian.Uint32(h[16:]), payload: payload,
		end: pad8(off + groupHeader + plen)}
	if _, ok := splitRecords(payload, g.records, nil); !ok {
		return group{}, "malformed records"
	}
	return g, ""
}

// splitRecords appends the records of a payload to dst; ok is false if
// the payload does not hold exactly n well-formed records.
func splitRecords(p []byte, n uint32, dst [][]byte) ([][]byte, bool) {
	for range n {
		if len(p) < 4 {
			return dst, false
		}
		rl := binary.BigEndian.Uint32(p)
		if rl > MaxRecord || int64(rl) > int64(len(p)-4) {
			return dst, false
		}
		dst = append(dst, p[4:4+rl:4+rl])
		p = p[4+rl:]
	}
	return dst, len(p) == 0
}

// laterGroup looks for a valid group with a sequence number from seq on
// after off (8-byte aligned, as groups are).
func laterGroup(data []byte, off int64, seq uint64) (int64, bool) {
	var magic [4]byte
	binary.BigEndian.PutUint32(magic[:], groupMagic)
	for at := off + 8; at+groupHeader <= int64(len(data)); {
		i := bytes.Index(data[at:], magic[:])
		if i < 0 {
			return 0, false
		}
		c := at + int64(i)
		if c%8 != 0 {
			at = c + 1
			continue
		}
		if g, reason := parseGroup(data, c); reason == "" && g.seq >= seq {
			return c, true
		}
		at = c + 8
	}
	return 0, false
}

func pad8(n int64) int64 { return (n + 7) &^ 7 }

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// lastNonZero returns the offset after the last non-zero byte from off on.
func lastNonZero(data []byte, off int64) int64 {
	end := int64(len(data))
	for end > off && data[end-1] == 0 {
		end--
	}
	return end
}

// zeroRange overwrites n bytes at off with zeros and syncs them.
func zeroRange(f *os.File, off, n int64) error {
	if err := writeZeros(f, off, n); err != nil {
		return err
	}
	return unix.Fdatasync(int(f.Fd()))
}

func checkHeader(data []byte, first uint64) error {
	if len(data) < segHeader {
		return errors.New("shorter than its header")
	}
	h := data[:segHeader]
	if string(h[:8]) != segMagic {
		return errors.New("not a segment (magic)")
	}
	if crc32.Checksum(h[:28], castagnoli) != binary.BigEndian.Uint32(h[28:]) {
		return errors.New("header checksum mismatch")
	}
	if v := binary.BigEndian.Uint32(h[8:]); v != segVersion {
		return fmt.Errorf("version %d, this build reads %d", v, segVersion)
	}
	if got := binary.BigEndian.Uint64(h[16:]); got != first {
		return fmt.Errorf("header names group %d, the file name %d", got, first)
	}
	return nil
}

func writeHeader(f *os.File, first uint64) error {
	var h [segHeader]byte
	copy(h[:], segMagic)
	binary.BigEndian.PutUint32(h[8:], segVersion)
	binary.BigEndian.PutUint64(h[16:], first)
	binary.BigEndian.PutUint32(h[28:], crc32.Checksum(h[:28], castagnoli))
	if _, err := f.WriteAt(h[:], 0); err != nil {
		return err
	}
	return unix.Fdatasync(int(f.Fd()))
}

// Append adds a record to the pending group. The bytes are copied.
func (l *Log) Append(rec []byte) error {
	if len(rec) > MaxRecord {
		return fmt.Errorf("segment: record of %d bytes, at most %d", len(rec), MaxRecord)
	}
	if len(l.buf) == 0 {
		l.buf = append(l.buf[:0], make([]byte, groupHeader)...)
	}
	l.buf = binary.BigEndian.AppendUint32(l.buf, uint32(len(rec)))
	l.buf = append(l.buf, rec...)
	l.n++
	return nil
}

// Pending is how many records wait for the next Commit.
func (l *Log) Pending() int { return l.n }

// Discard drops the pending group.
func (l *Log) Discard() { l.buf, l.n = l.buf[:0], 0 }

// Commit writes the pending group and makes it durable. It returns the
// group's sequence number and position. On error the group is not
// committed and is dropped; if its durability cannot be told the error is
// ErrUncertain and the log refuses further commits. A group with no
// records commits nothing and returns seq 0.
func (l *Log) Commit() (seq uint64, pos Pos, err error) {
	if l.closed {
		return 0, Pos{}, ErrClosed
	}
	if l.bad {
		l.Discard()
		return 0, Pos{}, ErrUncertain
	}
	if l.n == 0 {
		return 0, Pos{}, nil
	}
	defer l.Discard()
	plen := int64(len(l.buf) - groupHeader)
	if plen > maxGroupPayload {
		return 0, Pos{}, fmt.Errorf("segment: group of %d bytes, at most %d", plen, maxGroupPayload)
	}
	whole := pad8(groupHeader + plen)
	if l.f == nil || l.off+whole > l.size {
		if err := l.roll(whole); err != nil {
			return 0, Pos{}, err
		}
	}
	n, err := l.write(l.frame(), l.off)
	if err != nil {
		if n > 0 {
			l.bad = true
			return 0, Pos{}, fmt.Errorf("%w: %w", ErrUncertain, err)
		}
		return 0, Pos{}, err
	}
	if !l.opt.DSync {
		if err := l.sync(); err != nil {
			l.bad = true
			return 0, Pos{}, fmt.Errorf("%w: %w", ErrUncertain, err)
		}
	}
	l.mu.Lock()
	seq, pos = l.next, Pos{Segment: l.seg, Offset: l.off}
	l.next++
	l.off += whole
	l.mu.Unlock()
	return seq, pos, nil
}

// frame completes the pending group as group l.next — header, checksum,
// padding — and returns its bytes.
func (l *Log) frame() []byte {
	plen := len(l.buf) - groupHeader
	h := l.buf[:groupHeader]
	binary.BigEndian.PutUint32(h[0:], groupMagic)
	binary.BigEndian.PutUint32(h[4:], uint32(plen))
	binary.BigEndian.PutUint64(h[8:], l.next)
	binary.BigEndian.PutUint32(h[16:], uint32(l.n))
	binary.BigEndian.PutUint32(h[20:], crcOf(h[4:20], l.buf[groupHeader:]))
	for len(l.buf)%8 != 0 {
		l.buf = append(l.buf, 0)
	}
	return l.buf
}

// crcOf is a group's checksum: of its header from the length field on
// (length, seq, records) and of its payload.
func crcOf(h, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(h, castagnoli), castagnoli, payload)
}

func (l *Log) write(b []byte, off int64) (int, error) {
	if l.opt.fault != nil {
		if err := l.opt.fault("write"); err != nil {
			return 0, err
		}
	}
	return l.f.WriteAt(b, off)
}

func (l *Log) sync() error {
	if l.opt.fault != nil {
		if err := l.opt.fault("sync"); err != nil {
			return err
		}
	}
	return unix.Fdatasync(int(l.f.Fd()))
}

// roll starts a new segment that holds at least need bytes of groups. The
// file is preallocated, its header synced and the directory synced before
// any group is written to it; on failure (a full disk) the file is
// removed and the current segment stays the newest.
func (l *Log) roll(need int64) error {
	size := max(l.opt.SegmentSize, segHeader+need)
	if l.opt.fault != nil {
		if err := l.opt.fault("create"); err != nil {
			return fmt.Errorf("segment: new segment: %w", err)
		}
	}
	if l.f != nil && l.seg == l.next {
		// The newest segment holds no group yet (a file cut short, or one
		// smaller than the group): it takes the group's name, so it grows
		// instead.
		if err := allocate(l.f, size); err != nil {
			return fmt.Errorf("segment: growing segment: %w", err)
		}
		l.mu.Lock()
		l.size = size
		l.mu.Unlock()
		return nil
	}
	f, err := l.openFile(l.next, true)
	if err != nil {
		return fmt.Errorf("segment: new segment: %w", err)
	}
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return fmt.Errorf("segment: new segment: %w", err)
	}
	if err := allocate(f, size); err != nil {
		return fail(err)
	}
	if err := writeHeader(f, l.next); err != nil {
		return fail(err)
	}
	if err := SyncDir(l.dir); err != nil {
		return fail(err)
	}
	if l.f != nil {
		_ = l.f.Close()
	}
	l.mu.Lock()
	l.f, l.seg, l.size, l.off = f, l.next, size, segHeader
	l.mu.Unlock()
	return nil
}

// allocate gives f size bytes of disk (zeros), so that writes within them
// never need more space.
func allocate(f *os.File, size int64) error {
	if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		if !errors.Is(err, syscall.EOPNOTSUPP) {
			return err
		}
		// A file system without fallocate: write the zeros.
		return writeZeros(f, 0, size)
	}
	return nil
}

// writeZeros writes n zero bytes at off, a MiB at a time.
func writeZeros(f *os.File, off, n int64) error {
	zeros := make([]byte, min(n, 1<<20))
	for n > 0 {
		w := min(n, int64(len(zeros)))
		if _, err := f.WriteAt(zeros[:w], off); err != nil {
			return err
		}
		off, n = off+w, n-w
	}
	return nil
}

// SyncDir fsyncs directory dir, which makes the creation, rename or
// removal of a file in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the log; the pending group is dropped.
func (l *Log) Close() error {
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	l.Discard()
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}
