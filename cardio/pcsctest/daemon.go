package pcsctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ebfe/scard"
)

// Socket is where pcsc-lite clients reach the daemon.
const Socket = "/run/pcscd/pcscd.comm"

// VPCDReader is the name prefix pcscd gives the vpcd reader's slots; slot
// n is VPCDReader + " 00 0n".
const VPCDReader = "Virtual PCD"

// Bounds on waiting for the daemon; pcscd starts in well under a second
// here, the margin is for a loaded CI machine.
const (
	readyTimeout = 10 * time.Second
	// portsTimeout bounds the wait for the vpcd ports of a pcscd that
	// stopped: a connection a virtual card still held open keeps its port
	// in FIN_WAIT_2 until the kernel gives up on it (tcp_fin_timeout, 60 s
	// by default).
	portsTimeout = 75 * time.Second
	stopTimeout  = 5 * time.Second
	lockTimeout  = 3 * time.Minute
)

// Daemon is the pcscd the tests use.
type Daemon struct {
	cmd    *exec.Cmd
	exited chan struct{}
	out    *bytes.Buffer
}

// Owned reports whether this process started the daemon (and may restart
// or stop it).
func (d *Daemon) Owned() bool { return d.cmd != nil }

// Start returns the running pcscd, starting one when none answers.
func Start() (*Daemon, error) {
	if running() {
		d := &Daemon{}
		return d, d.waitReady()
	}
	return launch()
}

func running() bool {
	c, err := net.DialTimeout("unix", Socket, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// vpcdPorts are where the vpcd driver listens for virtual cards.
var vpcdPorts = []string{"127.0.0.1:35963", "127.0.0.1:35964"}

// waitPortsFree waits until nothing listens on the vpcd ports: a pcscd
// that is still shutting down (another test binary's, or one stopped by
// hand) keeps them, and a new pcscd would then come up without readers.
func waitPortsFree() error {
	deadline := time.Now().Add(portsTimeout)
	for {
		busy := ""
		for _, a := range vpcdPorts {
			ln, err := net.Listen("tcp", a)
			if err != nil {
				busy = a
				break
			}
			ln.Close()
		}
		if busy == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s still in use", ErrNotReady, busy)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func launch() (*Daemon, error) {
	if err := waitPortsFree(); err != nil {
		return nil, err
	}
	path, err := exec.LookPath("pcscd")
	if err != nil {
		// Debian puts it in /usr/sbin, which a test's PATH may lack.
		path = "/usr/sbin/pcscd"
	}
	d := &Daemon{out: new(bytes.Buffer), exited: make(chan struct{})}
	d.cmd = exec.Command(path, "--foreground")
	d.cmd.Stdout = d.out
	d.cmd.Stderr = d.out
	// Own process group: a Ctrl-C on go test must not leave it half-dead
	// while we still try to stop it cleanly. Pdeathsig stops it if the test
	// binary dies without cleaning up (a panic, a timeout), so the next
	// run does not find an orphan it may not restart.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("pcsctest: start pcscd: %w", err)
	}
	go func() {
		_ = d.cmd.Wait()
		close(d.exited)
	}()
	if err := d.waitReady(); err != nil {
		_ = d.Stop()
		return nil, fmt.Errorf("%w (pcscd output: %q)", err, d.tail())
	}
	return d, nil
}

// waitReady waits until a client sees the vpcd reader.
func (d *Daemon) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		if d.exited != nil {
			select {
			case <-d.exited:
				return fmt.Errorf("pcsctest: pcscd exited: %s", d.cmd.ProcessState)
			default:
			}
		}
		if last = hasVPCD(); last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%w: %v", ErrNotReady, last)
}

func hasVPCD() error {
	ctx, err := scard.EstablishContext()
	if err != nil {
		return err
	}
	defer ctx.Release()
	names, err := ctx.ListReaders()
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, VPCDReader) {
			return nil
		}
	}
	return fmt.Errorf("no %q reader among %d", VPCDReader, len(names))
}

// Stop stops the daemon if this process started it, and waits for it.
func (d *Daemon) Stop() error {
	if d.cmd == nil {
		return nil
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(stopTimeout):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	d.cmd = nil
	return nil
}

// Restart stops and starts the daemon this process owns, as an operator
// restarting the service would.
func (d *Daemon) Restart() error {
	if d.Owned() {
		if err := d.Stop(); err != nil {
			return err
		}
	} else if err := stopForeign(); err != nil {
		// A pcscd started outside the tests (CI's, the system's): stop it
		// as an operator restarting the service would, then start ours.
		return err
	}
	// pcscd removes its socket on a clean exit; make sure no stale one
	// makes the next Start believe a daemon is there.
	if err := os.Remove(Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pcsctest: stale socket: %w", err)
	}
	nd, err := launch()
	if err != nil {
		return err
	}
	*d = *nd
	return nil
}

func (d *Daemon) tail() string {
	if d.out == nil {
		return ""
	}
	s := d.out.String()
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// PIDFile is where pcscd records its process id.
const PIDFile = "/run/pcscd/pcscd.pid"

// stopForeign stops a pcscd this process did not start (found by its pid
// file) and waits until it has exited and released the vpcd ports.
func stopForeign() error {
	b, err := os.ReadFile(PIDFile)
	if err != nil {
		return fmt.Errorf("%w: no pid file: %v", ErrNotOwned, err)
	}
	pid, err := strconv.Atoi(strings.Trim(string(b), " \t\r\n\x00"))
	if err != nil || pid <= 1 {
		return fmt.Errorf("%w: bad pid file", ErrNotOwned)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("pcsctest: stop pcscd %d: %w", pid, err)
	}
	// Wait for it to go (a zombie that its parent has not reaped yet still
	// answers signal 0, so the wait is bounded; the ports tell the rest).
	deadline := time.Now().Add(stopTimeout)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if syscall.Kill(pid, 0) == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := os.Remove(Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pcsctest: stale socket: %w", err)
	}
	return waitPortsFree()
}
