// Package storetest holds what the store's crash tests share.
package storetest

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// KillAfterAcks re-runs the test binary (running no test) as a child with
// env added to its environment — the child's TestMain sees it and writes,
// printing a line for everything it acknowledges — hands every line to
// ack, and kills the child with SIGKILL a random delay in [lo, hi) after
// its first line. A line the kill cut off has no newline and is not
// handed over: it was not fully acknowledged. It returns the delay and
// how many lines the child acknowledged, once the child is dead; the
// child must have acknowledged something and died by the signal.
func KillAfterAcks(t testing.TB, env string, lo, hi time.Duration, ack func(line string)) (time.Duration, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	sc := bufio.NewScanner(stdout)
	killAfter := lo + time.Duration(rand.Int64N(int64(hi-lo)))
	var timer *time.Timer
	got := 0
	for sc.Scan() {
		ack(sc.Text())
		got++
		if timer == nil {
			timer = time.AfterFunc(killAfter, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		}
	}
	err = cmd.Wait()
	require.Error(t, err, "the child must die by SIGKILL; stderr: %s", stderr.String())
	require.NotNil(t, timer, "the child acknowledged nothing; stderr: %s", stderr.String())
	return killAfter, got
}
