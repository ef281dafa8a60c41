package segment

import (
	"testing"
)

// BenchmarkCommit is a group commit of the size the gateway makes under
// load (100 records of 300 bytes, about a lunch-hour group), made
// durable by a write and an fdatasync, or by a write to a file opened
// O_DSYNC. One op is one group.
func BenchmarkCommit(b *testing.B) {
	for _, bc := range []struct {
		name  string
		dsync bool
	}{{"fdatasync", false}, {"O_DSYNC", true}} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := Open(b.TempDir(), Options{DSync: bc.dsync})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			rec := make([]byte, 300)
			b.ReportAllocs()
			b.SetBytes(100 * int64(len(rec)))
			for b.Loop() {
				for range 100 {
					if err := l.Append(rec); err != nil {
						b.Fatal(err)
					}
				}
				if _, _, err := l.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppend is the committer's part of a record: copying it into
// the pending group (no I/O).
func BenchmarkAppend(b *testing.B) {
	l, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := make([]byte, 300)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := l.Append(rec); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			l.Discard()
		}
	}
}
