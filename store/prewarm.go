package store

import (
	"os"
	"syscall"
)

// prewarmChunk is the size of each read of prewarm.
const prewarmChunk = 4 << 20

// prewarm reads the file at path from start to end, so that the
// consistency check that follows finds its pages in the page cache. bbolt
// maps the file with MADV_RANDOM, so the check's walk over every page
// faults them in one at a time, each its own 4 KiB read: on a cold page
// cache (the first start after a reboot) about 70 MiB/s on the benchmark
// machine, three seconds for a 219 MiB store. Read in order, the kernel
// reads ahead in large requests (about 700 MiB/s there). It reads what the
// check is about to fault in anyway, plus the file's free pages; it skips
// a file larger than half the machine's memory, whose pages would evict
// each other before the check reached them. It returns the bytes read;
// read errors are left to the check, which reports them as a damaged file.
func prewarm(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		if mem := uint64(si.Totalram) * uint64(si.Unit); mem > 0 && uint64(fi.Size()) > mem/2 {
			return 0
		}
	}
	buf := make([]byte, prewarmChunk)
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(k)
		if err != nil { // io.EOF at the end
			return n
		}
	}
}
