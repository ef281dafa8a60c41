package store

import (
	"slices"
)

// memRange is one range of the idempotency logs' mirror (idemMem): tens of
// thousands of answers under load. It holds no pointer the garbage
// collector must follow per value: the values are copied into large
// append-only chunks and found through a map whose keys (the encoded
// IdemKey as an array) and values (where the bytes are) are plain data.
// A map of strings to byte slices instead has two pointers per entry, and
// the collector walks them all at every cycle — on a busy gateway every
// couple of seconds, tens of milliseconds with one of the box's cores
// (measured: the cycles were what the paced p99 saw).
//
// A value once written never changes (a newer value for the key is
// appended and the map points at it), and clear starts new chunks rather
// than reusing the old ones, so a slice handed out stays valid for as long
// as its holder keeps it.
type memRange struct {
	at     map[idemKeyArr]memLoc
	chunks [][]byte
}

// idemKeyArr is an encoded IdemKey as a map key without pointers.
type idemKeyArr [IdemKeySize]byte

// memLoc is where a value lies: chunk, offset and length.
type memLoc struct {
	chunk, off, n uint32
}

// memChunk is the size of a chunk: a few thousand answers.
const memChunk = 1 << 20

func newMemRange() memRange { return memRange{at: make(map[idemKeyArr]memLoc)} }

func toArr[K string | []byte](key K) (a idemKeyArr, ok bool) {
	if len(key) != IdemKeySize {
		return a, false
	}
	copy(a[:], key)
	return a, true
}

// get returns the value of an encoded key, if the range has one.
func (m *memRange) get(key []byte) ([]byte, bool) {
	a, ok := toArr(key)
	if !ok {
		return nil, false
	}
	return m.getArr(a)
}

// getS is get for a key held as a string.
func (m *memRange) getS(key string) ([]byte, bool) {
	a, ok := toArr(key)
	if !ok {
		return nil, false
	}
	return m.getArr(a)
}

func (m *memRange) getArr(a idemKeyArr) ([]byte, bool) {
	l, ok := m.at[a]
	if !ok {
		return nil, false
	}
	c := m.chunks[l.chunk]
	return c[l.off : l.off+l.n : l.off+l.n], true
}

// set copies v in as the value of key (an encoded IdemKey) and reports
// whether the key is new to the range.
func (m *memRange) set(key string, v []byte) (added bool) {
	a, ok := toArr(key)
	if !ok {
		panic("store: idempotency mirror: key of the wrong size")
	}
	last := len(m.chunks) - 1
	if last < 0 || len(m.chunks[last])+len(v) > cap(m.chunks[last]) {
		m.chunks = append(m.chunks, make([]byte, 0, max(memChunk, len(v))))
		last++
	}
	c := m.chunks[last]
	off := len(c)
	m.chunks[last] = append(c, v...)
	_, had := m.at[a]
	m.at[a] = memLoc{chunk: uint32(last), off: uint32(off), n: uint32(len(v))}
	return !had
}

// len is how many keys the range holds.
func (m *memRange) len() int { return len(m.at) }

// keys returns the range's keys, sorted.
func (m *memRange) keys() []string {
	out := make([]string, 0, len(m.at))
	for a := range m.at {
		out = append(out, string(a[:]))
	}
	slices.Sort(out)
	return out
}

// each calls fn with every key and value of the range.
func (m *memRange) each(fn func(key string, v []byte)) {
	for a, l := range m.at {
		c := m.chunks[l.chunk]
		fn(string(a[:]), c[l.off:l.off+l.n:l.off+l.n])
	}
}

// clear empties the range; slices handed out stay valid (new chunks).
func (m *memRange) clear() {
	clear(m.at)
	m.chunks = nil
}
