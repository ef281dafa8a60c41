// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)) with the standard library: a datagram of newline-separated
// assignments such as READY=1 sent to the unix socket named by
// $NOTIFY_SOCKET. Outside systemd (no NOTIFY_SOCKET) every call does
// nothing, so the gateway runs the same under a shell, a container or a
// test.
package sdnotify

import (
	"errors"
	"net"
	"os"
	"strconv"
	"time"
)

// Notifier sends state changes to systemd.
type Notifier struct {
	addr *net.UnixAddr // nil: not under systemd (or Type= is not notify)
}

// FromEnv reads $NOTIFY_SOCKET. An abstract socket ("@name") is supported
// as systemd passes it.
func FromEnv() *Notifier {
	s := os.Getenv("NOTIFY_SOCKET")
	if s == "" {
		return &Notifier{}
	}
	if s[0] == '@' {
		s = "\x00" + s[1:]
	}
	return &Notifier{addr: &net.UnixAddr{Name: s, Net: "unixgram"}}
}

// Enabled reports whether a notification socket was given.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != nil }

// Send sends one notification, for example "READY=1\nSTATUS=serving".
func (n *Notifier) Send(state string) error {
	if !n.Enabled() {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// ErrNoWatchdog means systemd asked for no watchdog (WATCHDOG_USEC unset
// or meant for another process).
var ErrNoWatchdog = errors.New("no watchdog requested")

// WatchdogInterval is the watchdog timeout systemd set for this process
// (WatchdogSec= in the unit, passed as $WATCHDOG_USEC); a service pings at
// half of it.
func WatchdogInterval() (time.Duration, error) {
	us := os.Getenv("WATCHDOG_USEC")
	if us == "" {
		return 0, ErrNoWatchdog
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, ErrNoWatchdog
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("WATCHDOG_USEC: want a positive number of microseconds")
	}
	return time.Duration(n) * time.Microsecond, nil
}
