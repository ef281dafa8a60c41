package sdnotify

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSendReachesTheSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	defer l.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	n := FromEnv()
	require.True(t, n.Enabled())
	require.NoError(t, n.Send("READY=1\nSTATUS=serving"))
	buf := make([]byte, 256)
	require.NoError(t, l.SetReadDeadline(time.Now().Add(5*time.Second)))
	k, err := l.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "READY=1\nSTATUS=serving", string(buf[:k]))
}

func TestWithoutSystemdNothingHappens(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := FromEnv()
	require.False(t, n.Enabled())
	require.NoError(t, n.Send("READY=1"))
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "")
	_, err := WatchdogInterval()
	require.ErrorIs(t, err, ErrNoWatchdog)
	t.Setenv("WATCHDOG_USEC", "30000000")
	t.Setenv("WATCHDOG_PID", "")
	d, err := WatchdogInterval()
	require.NoError(t, err)
	require.Equal(t, 30*time.Second, d)
	t.Setenv("WATCHDOG_PID", "1")
	_, err = WatchdogInterval()
	require.ErrorIs(t, err, ErrNoWatchdog, "meant for another process")
	t.Setenv("WATCHDOG_PID", "")
	t.Setenv("WATCHDOG_USEC", "soon")
	_, err = WatchdogInterval()
	require.Error(t, err)
}
