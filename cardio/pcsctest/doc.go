// Package pcsctest runs a test binary against a real pcscd with the
// vsmartcard-vpcd reader. It makes sure pcscd is running (starting
// `pcscd --foreground` itself when none is, and stopping only a daemon it
// started), serialises test binaries that share the vpcd slots through a
// file lock, and can restart a pcscd it owns.
//
// It is for tests only. A missing or unstartable pcscd is a failure, not a
// skip: the PC/SC path is what these tests exist to prove. Only under
// `go test -short` (make test-short) do the tests that need it skip.
package pcsctest
