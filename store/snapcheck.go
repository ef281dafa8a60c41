package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// # The consistency check over a pinned snapshot
//
// bbolt's own Tx.Check reads the live freelist, which every later commit
// changes, so it cannot run beside the committer: at Open it runs before
// the first request is served, and a cold start waits for the disk to
// read the whole file. snapCheck makes the same checks over the file as
// one read transaction sees it, reading the pages with pread rather than
// through bbolt, so it can go on while the committer commits:
//
//   - the meta page of the snapshot (the one whose transaction ID is the
//     read transaction's): magic, version, page size, checksum, root and
//     freelist below the high-water mark;
//   - the freelist page of that meta: its type, its IDs in range and none
//     freed twice;
//   - every page reachable from the root bucket, through nested and
//     inline buckets: in range below the high-water mark, its header's ID
//     its own, branch or leaf, referenced once, not freed, its elements
//     within the page, its keys in order and within its parent's bounds;
//   - every page below the high-water mark reachable or free.
//
// The read transaction pins the snapshot: bbolt does not reuse a page
// freed after the oldest open read transaction began, so every page the
// check reads keeps its contents until the transaction is rolled back,
// and only the two meta pages are rewritten — the snapshot's is copied
// before anything else commits (Open starts the committer after).

// Page layout of bbolt's file format 2 (go.etcd.io/bbolt/internal/common),
// in the machine's byte order.
const (
	pageHeaderSize    = 16 // id u64, flags u16, count u16, overflow u32
	branchElementSize = 16 // pos u32, ksize u32, pgid u64
	leafElementSize   = 16 // flags u32, pos u32, ksize u32, vsize u32
	bucketHeaderSize  = 16 // root u64, sequence u64

	pageBranch   = 0x01
	pageLeaf     = 0x02
	pageMeta     = 0x04
	pageFreelist = 0x10
	leafBucket   = 0x01

	boltMagic   = 0xED0CDAED
	boltVersion = 2
	noFreelist  = ^uint64(0)
	// maxTreeDepth bounds the walk's recursion on a damaged file (a
	// sound one is a few levels deep per bucket).
	maxTreeDepth = 64
)

var ne = binary.NativeEndian

// snapMeta is what the check needs of the snapshot's meta page.
type snapMeta struct {
	pageSize       int
	root, freelist uint64
	hwm            uint64 // pages below it are the file's
	txid           uint64
}

// parseMeta reads a meta page (header included) and validates it.
func parseMeta(p []byte) (snapMeta, error) {
	var m snapMeta
	if len(p) < pageHeaderSize+64 {
		return m, errors.New("meta page short")
	}
	if f := ne.Uint16(p[8:]); f != pageMeta {
		return m, fmt.Errorf("meta page has type %#x", f)
	}
	b := p[pageHeaderSize:]
	h := fnv.New64a()
	_, _ = h.Write(b[:56])
	switch {
	case ne.Uint32(b[0:]) != boltMagic:
		return m, errors.New("meta page: bad magic")
	case ne.Uint32(b[4:]) != boltVersion:
		return m, fmt.Errorf("meta page: version %d", ne.Uint32(b[4:]))
	case ne.Uint64(b[56:]) != h.Sum64():
		return m, errors.New("meta page: checksum mismatch")
	}
	m.pageSize = int(ne.Uint32(b[8:]))
	m.root = ne.Uint64(b[16:])
	m.freelist = ne.Uint64(b[32:])
	m.hwm = ne.Uint64(b[40:])
	m.txid = ne.Uint64(b[48:])
	switch {
	case m.pageSize < 1024 || m.pageSize > 1<<20 || m.pageSize&(m.pageSize-1) != 0:
		return m, fmt.Errorf("meta page: page size %d", m.pageSize)
	case m.hwm < 3 || m.root < 2 || m.root >= m.hwm:
		return m, fmt.Errorf("meta page: root %d, high-water mark %d", m.root, m.hwm)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.hwm):
		return m, fmt.Errorf("meta page: freelist %d, high-water mark %d", m.freelist, m.hwm)
	}
	return m, nil
}

// snapshotMeta reads the meta page of transaction txid from f (page size
// ps): bbolt alternates between the two, txid%2.
func snapshotMeta(f io.ReaderAt, ps int, txid uint64) (snapMeta, error) {
	p := make([]byte, ps)
	if _, err := f.ReadAt(p, int64(txid%2)*int64(ps)); err != nil {
		return snapMeta{}, fmt.Errorf("meta page %d: %v", txid%2, err)
	}
	m, err := parseMeta(p)
	if err != nil {
		return m, err
	}
	if m.txid != txid || m.pageSize != ps {
		return m, fmt.Errorf("meta page %d: transaction %d, page size %d; the snapshot is transaction %d, page size %d",
			txid%2, m.txid, m.pageSize, txid, ps)
	}
	return m, nil
}

// snapCheck checks one snapshot (see the top of the file).
type snapCheck struct {
	ctx  context.Context
	f    io.ReaderAt
	m    snapMeta
	seen []uint64 // bitmap: reachable pages
	free []uint64 // bitmap: pages in the freelist
	err  error    // the first problem
	// pages counts the pages read, for the caller's log.
	pages int64
	bufs  [][]byte // a page buffer per tree level
}

func bit(set []uint64, id uint64) bool { return set[id/64]&(1<<(id%64)) != 0 }
func setBit(set []uint64, id uint64)   { set[id/64] |= 1 << (id % 64) }

// checkSnapshot runs the check over the snapshot m of the file f and
// returns the first problem found, or ctx's error if it was stopped.
func checkSnapshot(ctx context.Context, f io.ReaderAt, m snapMeta) (pages int64, err error) {
	c := &snapCheck{ctx: ctx, f: f, m: m,
		seen: make([]uint64, (m.hwm+63)/64), free: make([]uint64, (m.hwm+63)/64)}
	defer func() {
		// The walk bounds every read; a panic here is a bug in it, and
		// must not take the gateway down with a damaged file as cause.
		if r := recover(); r != nil && err == nil {
			err = fmt.Errorf("check stopped: %v", r)
		}
	}()
	setBit(c.seen, 0)
	setBit(c.seen, 1)
	if m.freelist != noFreelist {
		c.freelist()
	}
	if c.err == nil {
		c.tree(m.root, nil, nil, 0)
	}
	if c.err == nil {
		for id := uint64(0); id < m.hwm; id++ {
			if !bit(c.seen, id) && !bit(c.free, id) {
				c.fail(fmt.Errorf("page %d: unreachable unfreed", id))
				break
			}
		}
	}
	return c.pages, c.err
}

func (c *snapCheck) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// read reads page id and its overflow pages into the buffer of level
// depth, and checks its header.
func (c *snapCheck) read(id uint64, depth int) []byte {
	if c.pages%1024 == 0 {
		if err := c.ctx.Err(); err != nil {
			c.fail(err)
			return nil
		}
	}
	ps := uint64(c.m.pageSize)
	if id < 2 || id >= c.m.hwm {
		c.fail(fmt.Errorf("page %d: out of bounds (high-water mark %d)", id, c.m.hwm))
		return nil
	}
	for len(c.bufs) <= depth {
		c.bufs = append(c.bufs, make([]byte, ps))
	}
	p := c.bufs[depth][:ps]
	if _, err := c.f.ReadAt(p, int64(id*ps)); err != nil {
		c.fail(fmt.Errorf("page %d: %v", id, err))
		return nil
	}
	c.pages++
	if got := ne.Uint64(p); got != id {
		c.fail(fmt.Errorf("page %d: header says page %d", id, got))
		return nil
	}
	if over := uint64(ne.Uint32(p[12:])); over > 0 {
		if over >= c.m.hwm-id {
			c.fail(fmt.Errorf("page %d: %d overflow pages run past the high-water mark %d", id, over, c.m.hwm))
			return nil
		}
		n := (over + 1) * ps
		if uint64(cap(c.bufs[depth])) < n {
			c.bufs[depth] = append(make([]byte, 0, n), p...)
		}
		p = c.bufs[depth][:n]
		if _, err := c.f.ReadAt(p[ps:], int64((id+1)*ps)); err != nil {
			c.fail(fmt.Errorf("page %d: overflow: %v", id, err))
			return nil
		}
		c.pages += int64(over)
	}
	return p
}

// freelist marks the snapshot's freelist page(s) reachable and their IDs
// free.
func (c *snapCheck) freelist() {
	id := c.m.freelist
	p := c.read(id, 0)
	if p == nil {
		return
	}
	if f := ne.Uint16(p[8:]); f != pageFreelist {
		c.fail(fmt.Errorf("page %d: freelist page has type %#x", id, f))
		return
	}
	for i := uint64(0); i < uint64(len(p))/uint64(c.m.pageSize); i++ {
		setBit(c.seen, id+i)
	}
	n, at := uint64(ne.Uint16(p[10:])), uint64(pageHeaderSize)
	if n == 0xFFFF {
		n, at = ne.Uint64(p[pageHeaderSize:]), at+8
	}
	if n > (uint64(len(p))-at)/8 {
		c.fail(fmt.Errorf("page %d: freelist of %d IDs does not fit its pages", id, n))
		return
	}
	for i := uint64(0); i < n; i++ {
		f := ne.Uint64(p[at+8*i:])
		switch {
		case f < 2 || f >= c.m.hwm:
			c.fail(fmt.Errorf("freelist: page %d out of bounds (high-water mark %d)", f, c.m.hwm))
			return
		case bit(c.free, f):
			c.fail(fmt.Errorf("page %d: already freed", f))
			return
		case bit(c.seen, f):
			c.fail(fmt.Errorf("page %d: the freelist's own page is free", f))
			return
		}
		setBit(c.free, f)
	}
}

// tree checks the B+tree under page id, whose keys must lie in [lo, hi)
// (nil: unbounded), and returns its greatest key (a copy). The buckets
// its leaves hold are walked as they are met.
func (c *snapCheck) tree(id uint64, lo, hi []byte, depth int) []byte {
	if depth > maxTreeDepth {
		c.fail(fmt.Errorf("page %d: tree deeper than %d levels", id, maxTreeDepth))
		return nil
	}
	p := c.read(id, depth)
	if p == nil {
		return nil
	}
	n := uint64(len(p)) / uint64(c.m.pageSize)
	for i := uint64(0); i < n; i++ {
		switch {
		case bit(c.seen, id+i):
			c.fail(fmt.Errorf("page %d: multiple references", id+i))
			return nil
		case bit(c.free, id+i):
			c.fail(fmt.Errorf("page %d: reachable freed", id+i))
			return nil
		}
		setBit(c.seen, id+i)
	}
	switch f := ne.Uint16(p[8:]); f {
	case pageBranch:
		return c.branch(id, p, lo, hi, depth)
	case pageLeaf:
		return c.leaf(id, p, lo, hi, depth)
	default:
		c.fail(fmt.Errorf("page %d: invalid type %#x", id, f))
		return nil
	}
}

// element returns the key (and for a leaf the value and flags) of
// element i of page p, or an error if it lies outside the page.
func element(p []byte, i int, branch bool) (key, val []byte, flags uint32, child uint64, err error) {
	at := pageHeaderSize + i*branchElementSize // both element sizes are 16
	if at+16 > len(p) {
		return nil, nil, 0, 0, fmt.Errorf("element %d outside the page", i)
	}
	e := p[at : at+16]
	var pos, ksize, vsize uint64
	if branch {
		pos, ksize, child = uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:])), ne.Uint64(e[8:])
	} else {
		flags, pos = ne.Uint32(e[0:]), uint64(ne.Uint32(e[4:]))
		ksize, vsize = uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
	}
	start := uint64(at) + pos // positions count from the element
	if start+ksize+vsize > uint64(len(p)) {
		return nil, nil, 0, 0, fmt.Errorf("element %d: key and value run past the page", i)
	}
	return p[start : start+ksize], p[start+ksize : start+ksize+vsize], flags, child, nil
}

func (c *snapCheck) branch(id uint64, p, lo, hi []byte, depth int) []byte {
	n := int(ne.Uint16(p[10:]))
	if n == 0 {
		c.fail(fmt.Errorf("page %d: branch page without elements", id))
		return nil
	}
	// The keys of this page are in p, which the children's reads reuse
	// one level down only (a buffer per level), so they stay valid here.
	runningMin := lo
	var max []byte
	key, _, _, child, err := element(p, 0, true)
	for i := range n {
		if err != nil {
			c.fail(fmt.Errorf("page %d: %v", id, err))
			return nil
		}
		if err := keyInRange(key, runningMin, hi, i == 0); err != nil {
			c.fail(fmt.Errorf("page %d (branch) key %d: %v", id, i, err))
			return nil
		}
		// The next element's key bounds this child from above.
		next, nextChild := hi, uint64(0)
		if i+1 < n {
			if next, _, _, nextChild, err = element(p, i+1, true); err != nil {
				c.fail(fmt.Errorf("page %d: %v", id, err))
				return nil
			}
		}
		max = c.tree(child, key, next, depth+1)
		if c.err != nil {
			return nil
		}
		runningMin, key, child = max, next, nextChild
	}
	return max
}

func (c *snapCheck) leaf(id uint64, p, lo, hi []byte, depth int) []byte {
	n := int(ne.Uint16(p[10:]))
	prev := lo
	for i := range n {
		key, val, flags, _, err := element(p, i, false)
		if err != nil {
			c.fail(fmt.Errorf("page %d: %v", id, err))
			return nil
		}
		if err := keyInRange(key, prev, hi, i == 0); err != nil {
			c.fail(fmt.Errorf("page %d (leaf) key %d: %v", id, i, err))
			return nil
		}
		prev = key
		if flags&leafBucket != 0 {
			c.bucket(id, i, val, depth)
			if c.err != nil {
				return nil
			}
		}
	}
	if n == 0 {
		return nil
	}
	return bytes.Clone(prev)
}

// bucket checks a bucket whose header is val (element i of leaf page id).
func (c *snapCheck) bucket(id uint64, i int, val []byte, depth int) {
	if len(val) < bucketHeaderSize {
		c.fail(fmt.Errorf("page %d: bucket %d: value of %d bytes", id, i, len(val)))
		return
	}
	if root := ne.Uint64(val); root != 0 {
		c.tree(root, nil, nil, depth+1)
		return
	}
	// An inline bucket: its page follows the header inside the value.
	in := val[bucketHeaderSize:]
	if len(in) < pageHeaderSize {
		c.fail(fmt.Errorf("page %d: inline bucket %d: %d bytes", id, i, len(in)))
		return
	}
	if f := ne.Uint16(in[8:]); f != pageLeaf {
		c.fail(fmt.Errorf("page %d: inline bucket %d: page type %#x", id, i, f))
		return
	}
	c.leaf(id, in, nil, nil, depth)
}

// keyInRange: key ≥ min (first key of a page) or > min (the rest), and <
// max; nil bounds are open.
func keyInRange(key, min, max []byte, first bool) error {
	if min != nil {
		switch cmp := bytes.Compare(key, min); {
		case first && cmp < 0:
			return fmt.Errorf("below its parent's key")
		case !first && cmp <= 0:
			return fmt.Errorf("not above the key before it")
		}
	}
	if max != nil && bytes.Compare(key, max) >= 0 {
		return fmt.Errorf("not below the next key of its parent")
	}
	return nil
}
