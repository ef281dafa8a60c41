package pcsctest

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// LockPath serialises test binaries that use pcscd and the vpcd slots:
// `go test ./...` runs packages in parallel and two virtual cards in one
// slot would see each other's commands.
const LockPath = "/tmp/ecardgw-pcsctest.lock"

// Current is the daemon of the running test binary, set by Main.
var Current *Daemon

// Main is a TestMain body: it takes the lock, makes sure pcscd runs, runs
// the tests, stops a pcscd it started, and exits. Setup failures fail the
// binary. Under -short (make test-short) it neither locks nor starts
// pcscd: the tests that need it skip (Require) and the others run.
func Main(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(run(m))
}

// Require returns the pcscd Main made sure of, for a test that needs it.
// Under -short it skips t; without Main it fails t.
func Require(t testing.TB) *Daemon {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test needs pcscd with the vpcd reader; make test runs it")
	}
	if Current == nil {
		t.Fatal("pcsctest: no pcscd; the package's TestMain must call pcsctest.Main")
	}
	return Current
}

func run(m *testing.M) int {
	unlock, err := lock()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer unlock()
	d, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcsctest:", err)
		return 1
	}
	Current = d
	defer d.Stop()
	return m.Run()
}

func lock() (func(), error) {
	f, err := os.OpenFile(LockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pcsctest: lock: %w", err)
	}
	deadline := time.Now().Add(lockTimeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, ErrLocked
		}
		time.Sleep(100 * time.Millisecond)
	}
}
