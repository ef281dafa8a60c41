package segment

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzOpenSegment opens arbitrary bytes as a log's only segment. Open
// either refuses with a *CorruptError or opens a log whose groups scan
// cleanly and which takes a new group after them; it never panics, and
// never refuses a file it would later call whole.
//
// Seeds live in testdata/fuzz/FuzzOpenSegment/ (a whole segment, a torn
// tail, a damaged middle, a half-created segment); go test -run
// TestFuzzSeeds -update-seeds rewrites them after a format change.
func FuzzOpenSegment(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := memDir(t)
		path := filepath.Join(dir, segName(1))
		require.NoError(t, os.WriteFile(path, data, 0o600))
		opt := Options{SegmentSize: 4096}
		l, err := Open(dir, opt)
		if err != nil {
			var ce *CorruptError
			require.True(t, errors.As(err, &ce), "Open: %v", err)
			return
		}
		groups := uint64(0)
		require.NoError(t, l.Scan(1, func(seq uint64, _ Pos, _ [][]byte) error {
			groups++
			require.Equal(t, groups, seq)
			return nil
		}))
		require.Equal(t, groups+1, l.Next())
		require.NoError(t, l.Append([]byte("after")))
		seq, _, err := l.Commit()
		require.NoError(t, err)
		require.Equal(t, groups+1, seq)
		require.NoError(t, l.Close())

		l, err = Open(dir, opt)
		require.NoError(t, err, "reopen of a log Open accepted")
		defer l.Close()
		var last []byte
		n := uint64(0)
		require.NoError(t, l.Scan(1, func(_ uint64, _ Pos, recs [][]byte) error {
			n++
			last = append(last[:0], recs[len(recs)-1]...)
			return nil
		}))
		require.Equal(t, groups+1, n)
		require.Equal(t, "after", string(last))
	})
}

// memDir is a temporary directory in memory where there is one
// (/dev/shm): the fuzz target syncs a dozen times per input, which a disk
// makes the bulk of its time.
func memDir(t *testing.T) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "segment-fuzz-")
		if err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed files")

// seedSegments builds the seed files: what the log writes, and what
// crashes and damage leave of it.
func seedSegments(t *testing.T) map[string][]byte {
	dir := t.TempDir()
	l, err := Open(dir, Options{SegmentSize: 4096})
	require.NoError(t, err)
	commitGroups(t, l, 1, 6)
	require.NoError(t, l.Close())
	whole, err := os.ReadFile(filepath.Join(dir, segName(1)))
	require.NoError(t, err)
	end := lastNonZero(whole, 0)

	torn := append([]byte(nil), whole...)
	copy(torn[pad8(end):], whole[segHeader:segHeader+40]) // a group header and part of its payload
	damaged := append([]byte(nil), whole...)
	damaged[segHeader+groupHeader+2] ^= 0x10
	return map[string][]byte{
		"whole":        whole[:pad8(end)+64],
		"torn-tail":    torn[:pad8(end)+128],
		"damaged":      damaged[:pad8(end)+64],
		"half-created": make([]byte, 64),
		"header-only":  whole[:segHeader],
	}
}

func TestFuzzSeeds(t *testing.T) {
	seeds := seedSegments(t)
	dir := filepath.Join("testdata", "fuzz", "FuzzOpenSegment")
	if *updateSeeds {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for name, b := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
		}
	}
	for name := range seeds {
		require.FileExists(t, filepath.Join(dir, name), "run go test -run TestFuzzSeeds -update-seeds")
	}
}
