package campuscode

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"sync"
	"sync/atomic"
)

// certEntry is a certificate whose issuer signature has been checked,
// with the user key ready for verification. Entries are immutable once
// added, so a reader may keep using one after it is evicted.
type certEntry struct {
	key        [32]byte
	prev, next *certEntry

	ed  ed25519.PublicKey
	sm2 *ecdsa.PublicKey
	za  [32]byte
}

func (e *certEntry) verify(msg, sig []byte) bool {
	if e.sm2 != nil {
		return VerifySM2(e.sm2, &e.za, msg, sig)
	}
	return ed25519.Verify(e.ed, msg, sig)
}

// certCache is a bounded LRU of verified certificates keyed by SHA-256 of
// the certificate bytes. The key covers the issuer signature and every
// field, so a certificate changed in any byte is a miss and is checked
// again. A hit moves the entry to the front without allocating.
type certCache struct {
	mu   sync.Mutex
	max  int
	m    map[[32]byte]*certEntry
	head certEntry // sentinel: head.next is most recent, head.prev least

	hits, misses, evictions atomic.Uint64
}

// newCertCache makes a cache of at most max entries; max 0 makes a cache
// that never holds anything. The map grows on demand rather than being
// sized for max up front: a large limit costs memory only when used.
func newCertCache(max int) *certCache {
	c := &certCache{max: max, m: make(map[[32]byte]*certEntry, min(max, 1024))}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *certCache) get(key *[32]byte) *certEntry {
	c.mu.Lock()
	e := c.m[*key]
	if e != nil {
		c.unlink(e)
		c.pushFront(e)
	}
	c.mu.Unlock()
	if e == nil {
		c.misses.Add(1)
	} else {
		c.hits.Add(1)
	}
	return e
}

// add inserts e unless its key is present (two workers may verify the
// same certificate at once), evicting the least recently used entry when
// full.
func (c *certCache) add(e *certEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max <= 0 {
		return
	}
	if _, ok := c.m[e.key]; ok {
		return
	}
	for len(c.m) >= c.max {
		old := c.head.prev
		c.unlink(old)
		delete(c.m, old.key)
		c.evictions.Add(1)
	}
	c.m[e.key] = e
	c.pushFront(e)
}

func (c *certCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *certCache) unlink(e *certEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (c *certCache) pushFront(e *certEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}
