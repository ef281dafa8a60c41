package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// rawStore writes a bbolt file with what the check must walk: a bucket
// deep enough for branch pages, nested buckets (inline and not), values
// with overflow pages, and free pages from deletes.
func rawStore(t testing.TB, dir string, n int) string {
	path := filepath.Join(dir, "raw.db")
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	val := bytes.Repeat([]byte("v"), 100)
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		a, err := tx.CreateBucket([]byte("a"))
		if err != nil {
			return err
		}
		for i := range n {
			if err := a.Put(binary.BigEndian.AppendUint64(nil, uint64(i)), val); err != nil {
				return err
			}
		}
		nest, err := tx.CreateBucket([]byte("nest"))
		if err != nil {
			return err
		}
		for i := range 8 {
			sub, err := nest.CreateBucket([]byte{'s', byte('0' + i)})
			if err != nil {
				return err
			}
			for j := range 2 + i*i*20 { // the first ones stay inline
				if err := sub.Put(binary.BigEndian.AppendUint32(nil, uint32(j)), val[:20]); err != nil {
					return err
				}
			}
		}
		big, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		for i := range 3 {
			if err := big.Put([]byte{byte(i)}, bytes.Repeat([]byte{byte(i)}, 3*os.Getpagesize())); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, b.Update(func(tx *bolt.Tx) error {
		a := tx.Bucket([]byte("a"))
		for i := n / 4; i < n/2; i++ {
			if err := a.Delete(binary.BigEndian.AppendUint64(nil, uint64(i))); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, b.Close())
	return path
}

// bothChecks runs bbolt's check and the snapshot check over the file.
func bothChecks(t *testing.T, path string) (boltErr, snapErr error) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer b.Close()
	tx, err := b.Begin(false)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	for err := range tx.Check() {
		if boltErr == nil {
			boltErr = err
		}
	}
	snapErr = snapCheckFile(t, path, uint64(tx.ID()), b.Info().PageSize)
	return boltErr, snapErr
}

func snapCheckFile(t testing.TB, path string, txid uint64, ps int) error {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := snapshotMeta(f, ps, txid)
	if err != nil {
		return err
	}
	_, err = checkSnapshot(t.Context(), f, m)
	return err
}

// pageOf finds a page of the given type under bucket name: its ID.
func pageOf(t *testing.T, path, name string, branch bool) uint64 {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer b.Close()
	var found uint64
	require.NoError(t, b.View(func(tx *bolt.Tx) error {
		root := uint64(tx.Bucket([]byte(name)).Root())
		info, err := tx.Page(int(root))
		require.NoError(t, err)
		require.Equal(t, "branch", info.Type, "bucket %s is too small to have branch pages", name)
		if branch {
			found = root
			return nil
		}
		// Down the second children to a leaf.
		for id := root; ; {
			p := readPage(t, path, id)
			if binary.NativeEndian.Uint16(p[8:]) == pageLeaf {
				found = id
				return nil
			}
			_, _, _, child, err := element(p, 1, true)
			require.NoError(t, err)
			id = child
		}
	}))
	return found
}

func readPage(t *testing.T, path string, id uint64) []byte {
	t.Helper()
	ps := os.Getpagesize()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	p := make([]byte, ps)
	_, err = f.ReadAt(p, int64(id)*int64(ps))
	require.NoError(t, err)
	return p
}

func writePage(t *testing.T, path string, id uint64, p []byte) {
	t.Helper()
	writeAt(t, path, int64(id)*int64(os.Getpagesize()), p)
}

// freelistOf returns the page ID of the newest meta's freelist.
func freelistOf(t *testing.T, path string) uint64 {
	t.Helper()
	img, err := os.ReadFile(path)
	require.NoError(t, err)
	m := newestMeta(img)
	require.NotZero(t, m.freelist)
	return m.freelist
}

// newestMeta is the valid meta page of img with the greatest transaction
// ID: the snapshot a read of the file would see.
func newestMeta(img []byte) snapMeta {
	var best snapMeta
	for i := range 2 {
		m, err := parseMeta(img[i*os.Getpagesize():])
		if err == nil && m.txid >= best.txid {
			best = m
		}
	}
	return best
}

// TestSnapshotCheckPassesSoundFiles: files bbolt finds sound, the snapshot
// check finds sound too — the raw shapes and the store's own.
func TestSnapshotCheckPassesSoundFiles(t *testing.T) {
	for _, n := range []int{0, 10, 5000} {
		boltErr, snapErr := bothChecks(t, rawStore(t, t.TempDir(), n))
		require.NoError(t, boltErr)
		require.NoError(t, snapErr, "n=%d", n)
	}
	boltErr, snapErr := bothChecks(t, populated(t))
	require.NoError(t, boltErr)
	require.NoError(t, snapErr)
}

// TestSnapshotCheckFindsDamage: each kind of damage bbolt's check finds,
// the snapshot check finds; and a few bbolt's check would have to read
// out of its mapping to see.
func TestSnapshotCheckFindsDamage(t *testing.T) {
	ne := binary.NativeEndian
	cases := []struct {
		name     string
		boltSees bool
		want     string
		spoil    func(t *testing.T, path string)
	}{
		{"leaf keys out of order", true, "not above the key before it", func(t *testing.T, path string) {
			id := pageOf(t, path, "a", false)
			p := readPage(t, path, id)
			k0, _, _, _, _ := element(p, 0, false)
			k1, _, _, _, _ := element(p, 1, false)
			tmp := bytes.Clone(k0)
			copy(k0, k1)
			copy(k1, tmp)
			writePage(t, path, id, p)
		}},
		{"a branch points at a free page", true, "reachable freed", func(t *testing.T, path string) {
			id := pageOf(t, path, "a", true)
			fl := readPage(t, path, freelistOf(t, path))
			require.NotZero(t, ne.Uint16(fl[10:]), "the file has free pages")
			p := readPage(t, path, id)
			ne.PutUint64(p[pageHeaderSize+8:], ne.Uint64(fl[pageHeaderSize:]))
			writePage(t, path, id, p)
		}},
		{"two branch elements share a child", true, "multiple references", func(t *testing.T, path string) {
			id := pageOf(t, path, "a", true)
			p := readPage(t, path, id)
			ne.PutUint64(p[pageHeaderSize+branchElementSize+8:], ne.Uint64(p[pageHeaderSize+8:]))
			writePage(t, path, id, p)
		}},
		{"a page of no known type", true, "invalid type", func(t *testing.T, path string) {
			id := pageOf(t, path, "a", false)
			p := readPage(t, path, id)
			ne.PutUint16(p[8:], 0x20)
			writePage(t, path, id, p)
		}},
		{"the freelist names a page twice", true, "already freed", func(t *testing.T, path string) {
			id := freelistOf(t, path)
			p := readPage(t, path, id)
			require.Greater(t, ne.Uint16(p[10:]), uint16(1))
			ne.PutUint64(p[pageHeaderSize+8:], ne.Uint64(p[pageHeaderSize:]))
			writePage(t, path, id, p)
		}},
		{"a page neither reachable nor free", true, "unreachable unfreed", func(t *testing.T, path string) {
			id := freelistOf(t, path)
			p := readPage(t, path, id)
			ne.PutUint16(p[10:], ne.Uint16(p[10:])-1)
			writePage(t, path, id, p)
		}},
		{"a key runs past its page", false, "run past the page", func(t *testing.T, path string) {
			id := pageOf(t, path, "a", false)
			p := readPage(t, path, id)
			ne.PutUint32(p[pageHeaderSize+8:], 1<<20)
			writePage(t, path, id, p)
		}},
		{"a child beyond the file", false, "out of bounds", func(t *testing.T, path string) {
			id := pageOf(t, path, "a", true)
			p := readPage(t, path, id)
			ne.PutUint64(p[pageHeaderSize+8:], 1<<40)
			writePage(t, path, id, p)
		}},
		{"a page under another's number", false, "header says page", func(t *testing.T, path string) {
			id := pageOf(t, path, "a", false)
			p := readPage(t, path, id)
			ne.PutUint64(p, id+1)
			writePage(t, path, id, p)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := rawStore(t, t.TempDir(), 5000)
			c.spoil(t, path)
			var snapErr error
			if c.boltSees {
				var boltErr error
				boltErr, snapErr = bothChecks(t, path)
				require.Error(t, boltErr, "bbolt's check should see this damage too")
			} else {
				b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
				require.NoError(t, err)
				require.NoError(t, b.View(func(tx *bolt.Tx) error {
					snapErr = snapCheckFile(t, path, uint64(tx.ID()), b.Info().PageSize)
					return nil
				}))
				require.NoError(t, b.Close())
			}
			require.ErrorContains(t, snapErr, c.want)
		})
	}
}

// snapImage is a small store file in memory and its snapshot's meta.
func snapImage(t testing.TB) ([]byte, snapMeta) {
	path := rawStore(t, t.TempDir(), 600)
	img, err := os.ReadFile(path)
	require.NoError(t, err)
	m := newestMeta(img)
	require.NotZero(t, m.txid)
	return img, m
}

// checkImage runs the snapshot check over img with bytes at off replaced.
func checkImage(img []byte, m snapMeta, off int, data []byte) error {
	spoilt := bytes.Clone(img)
	copy(spoilt[off%len(spoilt):], data)
	_, err := checkSnapshot(context.Background(), bytes.NewReader(spoilt), m)
	return err
}

// TestSnapshotCheckSurvivesGarbage: garbage anywhere in the file is
// reported or harmless; the walk never panics (its recover would say
// "check stopped").
func TestSnapshotCheckSurvivesGarbage(t *testing.T) {
	img, m := snapImage(t)
	require.NoError(t, checkImage(img, m, 0, nil))
	r := rand.New(rand.NewPCG(1, 2))
	found := 0
	for range 2000 {
		data := make([]byte, 1+r.IntN(64))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		// Aim at the pages' headers and elements most of the time.
		off := r.IntN(len(img))
		if r.IntN(2) == 0 {
			off -= off % os.Getpagesize()
			off += r.IntN(96)
		}
		err := checkImage(img, m, off, data)
		if err != nil {
			require.NotContains(t, err.Error(), "check stopped")
			found++
		}
	}
	require.Positive(t, found)
}

// FuzzSnapshotCheck: bytes written anywhere over a store file never make
// the check panic. The file is testdata/snapcheck/small.db (go test -run
// TestSnapshotImage -update-seeds rewrites it).
func FuzzSnapshotCheck(f *testing.F) {
	img, err := os.ReadFile(filepath.Join("testdata", "snapcheck", "small.db"))
	require.NoError(f, err)
	m := newestMeta(img)
	require.NoError(f, checkImage(img, m, 0, nil), "the seed file is sound")
	ps := os.Getpagesize()
	f.Add(uint32(2*ps+10), []byte{0xff, 0xff})
	f.Add(uint32(3*ps+16), []byte{0, 0, 1, 0})
	f.Add(uint32(4*ps), []byte{4, 0, 0, 0, 0, 0, 0, 0, 2, 0})
	f.Fuzz(func(t *testing.T, off uint32, data []byte) {
		err := checkImage(img, m, int(off), data)
		if err != nil && strings.Contains(err.Error(), "check stopped") {
			t.Fatal(err)
		}
	})
}

// TestSnapshotImage keeps the fuzz target's file a sound store.
func TestSnapshotImage(t *testing.T) {
	p := filepath.Join("testdata", "snapcheck", "small.db")
	if *updateSeeds {
		img, _ := snapImage(t)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, img, 0o644))
	}
	boltErr, snapErr := bothChecks(t, copyFile(t, p))
	require.NoError(t, boltErr)
	require.NoError(t, snapErr)
}

func copyFile(t *testing.T, src string) string {
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, os.WriteFile(dst, b, 0o600))
	return dst
}
