package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// evict drops the file's pages from the page cache (clean pages only: it
// syncs first), or skips the test where the file system keeps them (tmpfs).
func evict(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, f.Sync())
	const fadvDontNeed = 4
	_, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0)
	require.Zero(t, errno)
	fi, err := f.Stat()
	require.NoError(t, err)
	for _, b := range residentPages(f, fi.Size()) {
		if b&1 != 0 {
			t.Skip("this file system keeps the file's pages in memory: nothing to read ahead")
		}
	}
}

// uncachedFile writes a file of a little over two prewarm chunks (not a
// multiple of the chunk: the last read is short) and evicts it from the
// page cache.
func uncachedFile(t *testing.T) (path string, size int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "f")
	size = int64(2*prewarmChunk + 12345)
	require.NoError(t, os.WriteFile(path, make([]byte, size), 0o600))
	evict(t, path)
	return path, size
}

func TestPrewarmReadsTheWholeFile(t *testing.T) {
	path, size := uncachedFile(t)
	require.Equal(t, warmed{read: size}, prewarm(path))
	require.Zero(t, prewarm(filepath.Join(t.TempDir(), "missing")))
}

// A restart of the process finds the file in the page cache: prewarm
// copies none of it again, and reads only the pages that are not there.
func TestPrewarmSkipsPagesInThePageCache(t *testing.T) {
	path, size := uncachedFile(t)
	require.Equal(t, warmed{read: size}, prewarm(path))
	require.Equal(t, warmed{cached: size}, prewarm(path), "all of it in the page cache now")

	evict(t, path)
	page := int64(os.Getpagesize())
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.ReadAt(make([]byte, 3*page), prewarmChunk-page) // pages across the first chunk's end
	require.NoError(t, err)
	require.Equal(t, warmed{read: size - 3*page, cached: 3 * page}, prewarm(path))
}

// Open reads the file ahead of its consistency check (so that a cold
// start reads it in order), and only when it runs the check.
func TestOpenReadsTheFileAheadOfTheCheck(t *testing.T) {
	db, path := openTest(t, Options{})
	for i := range 50 {
		a := sampleAccount(uint64(i+1), "")
		update(t, db, func(tx *Tx) error { return tx.PutAccount(&a) })
	}
	var got *warmed
	hook := func(w warmed) { got = &w }
	db = reopen(t, db, Options{prewarmed: hook})
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Equal(t, fi.Size(), got.read+got.cached)

	got = nil
	db = reopen(t, db, Options{SkipCheck: true, prewarmed: hook})
	require.Nil(t, got, "no check, nothing read ahead")

	require.NoError(t, db.Close())
	evict(t, path)
	ro, err := Open(path, Options{StorageKey: testKey, ReadOnly: true, prewarmed: hook})
	require.NoError(t, err)
	defer ro.Close()
	require.NotNil(t, got)
	// a read-only open checks, and reads ahead, too: all but the few pages
	// bbolt's open and the schema check read first.
	require.Equal(t, fi.Size(), got.read+got.cached)
	require.Greater(t, got.read, fi.Size()*9/10)
}

// The read-ahead skips what the page cache holds, never the check: a
// damaged page is refused whether it, or the rest of the file, was in the
// page cache or not.
func TestOpenRefusesDamageWhateverThePageCacheHolds(t *testing.T) {
	journalRoot := func(t *testing.T, path string) int64 {
		b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		require.NoError(t, err)
		defer b.Close()
		var root int64
		require.NoError(t, b.View(func(tx *bolt.Tx) error {
			root = int64(tx.Bucket(bktJournal).Root())
			return nil
		}))
		require.NotZero(t, root)
		return root * int64(os.Getpagesize())
	}
	ps := int64(os.Getpagesize())
	cases := map[string]func(t *testing.T, path string, damaged int64){
		"all cached": func(*testing.T, string, int64) {},
		"none cached": func(t *testing.T, path string, _ int64) {
			evict(t, path)
		},
		"only the damaged page cached": func(t *testing.T, path string, damaged int64) {
			evict(t, path)
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			_, err = f.ReadAt(make([]byte, ps), damaged)
			require.NoError(t, err)
		},
		"all but the damaged page cached": func(t *testing.T, path string, damaged int64) {
			evict(t, path)
			b, err := os.ReadFile(path) // caches all of it
			require.NoError(t, err)
			require.NotEmpty(t, b)
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			const fadvDontNeed = 4
			_, _, errno := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), uintptr(damaged), uintptr(ps), fadvDontNeed, 0, 0)
			require.Zero(t, errno)
		},
	}
	for name, cache := range cases {
		t.Run(name, func(t *testing.T) {
			path := populated(t)
			damaged := journalRoot(t, path)
			writeAt(t, path, damaged+16, garbage(int(ps)-16))
			cache(t, path, damaged)
			var got *warmed
			_, err := Open(path, Options{StorageKey: testKey, prewarmed: func(w warmed) { got = &w }})
			require.ErrorIs(t, err, ErrCorrupt)
			require.NotNil(t, got, "refused by the check, after the read-ahead")
		})
	}
}
