package daemon_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSystemdNotify runs the real binary as systemd would run a
// Type=notify service with WatchdogSec=: on a fake NOTIFY_SOCKET it must
// say READY=1 only once its listeners accept (the addresses in STATUS= are
// dialled the moment READY=1 arrives), then keep sending WATCHDOG=1, and
// STOPPING=1 on SIGTERM. The start log carries the version.
func TestSystemdNotify(t *testing.T) {
	bin := buildGateway(t)
	dir := t.TempDir()
	path := writeGatewayFiles(t, dir, gwOptions{terminals: 1})
	sock := filepath.Join(dir, "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	require.NoError(t, err)
	defer l.Close()

	cmd := exec.Command(bin, "serve", "--config", path)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=300000", "ECARDGW_LOG_LEVEL=info")
	var logs logBuf
	cmd.Stderr = &logs
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}()

	read := func() string {
		t.Helper()
		buf := make([]byte, 4096)
		require.NoError(t, l.SetReadDeadline(time.Now().Add(20*time.Second)))
		n, err := l.Read(buf)
		require.NoError(t, err, "no notification; log:\n%s", logs.String())
		return string(buf[:n])
	}
	ready := read()
	require.True(t, strings.HasPrefix(ready, "READY=1\n"), ready)
	m := regexp.MustCompile(`STATUS=serving POS on (\S+), admin on (\S+)`).FindStringSubmatch(ready)
	require.NotNil(t, m, ready)
	c, err := net.DialTimeout("tcp", m[1], time.Second)
	require.NoError(t, err, "the POS listener accepts when READY=1 arrives")
	_ = c.Close()
	res, err := http.Get("http://" + m[2] + "/readyz")
	require.NoError(t, err, "the admin listener answers when READY=1 arrives")
	_ = res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, ready, "MAINPID=")

	for range 3 {
		require.Equal(t, "WATCHDOG=1", read(), "pings at half of WATCHDOG_USEC")
	}

	require.Regexp(t, `msg="ecardgw starting" version=\S+ revision=\S+ go=go1`, logs.String())
	require.Regexp(t, `msg="ecardgw serving" version=\S+`, logs.String())

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	for {
		s := read()
		if s == "WATCHDOG=1" {
			continue
		}
		require.Equal(t, "STOPPING=1", s)
		break
	}
	select {
	case err := <-exited:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	exited <- nil // for the deferred kill
}
