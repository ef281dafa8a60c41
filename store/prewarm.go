package store

import (
	"context"
	"os"
	"syscall"
	"unsafe"
)

// prewarmChunk is the size of each read of prewarm.
const prewarmChunk = 4 << 20

// warmed is what prewarm did with the file: the bytes it read from the
// disk, and the bytes it skipped because they were in the page cache
// already.
type warmed struct {
	read, cached int64
}

// prewarm reads the file at path from start to end, so that the
// consistency check that follows finds its pages in the page cache. bbolt
// maps the file with MADV_RANDOM, so the check's walk over every page
// faults them in one at a time, each its own 4 KiB read: on a cold page
// cache (the first start after a reboot) about 70 MiB/s on the benchmark
// machine, three seconds for a 219 MiB store. Read in order, the kernel
// reads ahead in large requests (0.5–1.5 GiB/s there). It reads what the
// check is about to fault in anyway, plus the file's free pages; it skips
// a file larger than half the machine's memory, whose pages would evict
// each other before the check reached them, and the runs of pages that
// are in the page cache already (a restart of the process: copying them
// would only cost CPU). Read errors are left to the check, which reports
// them as a damaged file.
func prewarm(path string) warmed { return prewarmCtx(context.Background(), path) }

// prewarmCtx is prewarm that stops, between reads, once ctx is done.
func prewarmCtx(ctx context.Context, path string) warmed {
	var w warmed
	f, err := os.Open(path)
	if err != nil {
		return w
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return w
	}
	size := fi.Size()
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		if mem := uint64(si.Totalram) * uint64(si.Unit); mem > 0 && uint64(size) > mem/2 {
			return w
		}
	}
	resident := residentPages(f, size)
	page := int64(os.Getpagesize())
	buf := make([]byte, prewarmChunk)
	for off := int64(0); off < size && ctx.Err() == nil; {
		// Skip the run of cached pages at off; read up to a chunk of
		// the run of uncached pages that follows.
		if resident != nil && resident[off/page]&1 != 0 {
			end := off
			for end < size && resident[end/page]&1 != 0 {
				end += page
			}
			end = min(end, size)
			w.cached += end - off
			off = end
			continue
		}
		end := min(off+prewarmChunk, size)
		if resident != nil {
			for p := off + page; p < end; p += page {
				if resident[p/page]&1 != 0 {
					end = p
					break
				}
			}
		}
		n, err := f.ReadAt(buf[:end-off], off)
		w.read += int64(n)
		off += int64(n)
		if err != nil { // io.EOF: the file shrank
			return w
		}
	}
	return w
}

// residentPages reports, one byte per page of the file, which pages are
// in the page cache (bit 0 set), or nil when it cannot tell (then every
// page is read).
func residentPages(f *os.File, size int64) []byte {
	if int64(int(size)) != size {
		return nil
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	defer func() { _ = syscall.Munmap(m) }()
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return nil
	}
	return vec
}
