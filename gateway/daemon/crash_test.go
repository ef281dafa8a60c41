package daemon_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/gateway/posclient"
	"ecardgw/store"
)

// skipKill9InShort skips, under -short (make test-short), a test that kills
// a gateway process with SIGKILL and restarts it: those take seconds to
// minutes, and make test runs them.
func skipKill9InShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test kills a gateway with SIGKILL and restarts it; make test runs it")
	}
}

// buildGateway compiles cmd/ecardgw once for the subprocess tests.
func buildGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ecardgw")
	out, err := exec.Command("go", "build", "-o", bin, "ecardgw/cmd/ecardgw").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// servingRE matches the start-up line that says the listeners are up.
var servingRE = regexp.MustCompile(`ecardgw serving.* pos=(127\.0\.0\.1:\d+) admin=(127\.0\.0\.1:\d+)`)

// proc is a gateway running as a subprocess.
type proc struct {
	cmd       *exec.Cmd
	addr      string        // POS listener
	admin     string        // admin listener
	listening time.Duration // from exec to the listeners being up
	done      chan struct{}
	logs      logBuf // every line of its log
}

func startProc(t *testing.T, bin, cfg string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "ECARDGW_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	t0 := time.Now()
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, done: make(chan struct{})}
	serving := make(chan []string, 1)
	var tail []string // the last lines, for a gateway that exits
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = p.logs.Write([]byte(sc.Text() + "\n"))
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case serving <- m:
				default:
				}
			} else if len(tail) < 20 {
				tail = append(tail, sc.Text())
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case m := <-serving:
		p.listening = time.Since(t0)
		p.addr, p.admin = m[1], m[2]
	case <-p.done:
		t.Fatalf("gateway exited before it served: %s\n%s", cmd.ProcessState, strings.Join(tail, "\n"))
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("gateway did not report its listeners")
	}
	return p
}

// conns are terminal connections held open across a kill -9, closed only
// once the restarted gateway listens.
type conns struct {
	mu   sync.Mutex
	list []*posclient.TCP
}

func (c *conns) add(t *posclient.TCP) {
	c.mu.Lock()
	c.list = append(c.list, t)
	c.mu.Unlock()
}

func (c *conns) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.list {
		_ = t.Close()
	}
	c.list = nil
}

func (p *proc) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) term(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.kill9()
		t.Fatal("gateway did not stop on SIGTERM")
	}
}

// TestCrashKill9 loads a gateway subprocess with card purchases, kills it
// with SIGKILL at random moments, restarts it, and checks card by card that
// approved ≤ debited ≤ approved + unanswered, that sessions survive and
// that a retransmission after the restart gets its original answer.
func TestCrashKill9(t *testing.T) {
	skipKill9InShort(t)
	const (
		terms   = 16
		cycles  = 4
		balance = int64(1_000_000)
	)
	bin := buildGateway(t)
	dir := t.TempDir()
	cfg := writeGatewayFiles(t, dir, gwOptions{terminals: terms})
	importAccounts(t, filepath.Join(dir, "gw.db"), terms, balance)

	approved := make([]int64, terms+1)
	unanswered := make([]int64, terms+1)
	pos := make([]*posclient.Terminal, terms+1)
	for i := 1; i <= terms; i++ {
		pos[i] = &posclient.Terminal{ID: termOf(i), Merchant: "M00000000000001", TMK: tmk}
	}
	var lastReq [][]byte = make([][]byte, terms+1)
	var lastAns [][]byte = make([][]byte, terms+1)
	rng := rand.New(rand.NewPCG(1, 2))

	// The terminals keep their connections open across the kill: each
	// restart binds the same ports while the dead process's connections
	// are still half-open there, as after a real crash.
	var held conns
	defer held.closeAll()
	for cycle := range cycles {
		p := startProc(t, bin, cfg)
		if cycle == 0 {
			pinListeners(t, cfg, p)
		}
		held.closeAll() // the previous cycle's, now that the new process listens
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var mu sync.Mutex
		for i := 1; i <= terms; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c, err := posclient.Dial(p.addr, 2*time.Second)
				if err != nil {
					return
				}
				held.add(c)
				term := pos[i]
				term.T = c
				ctx := context.Background()
				if cycle == 0 {
					if _, err := term.SignIn(ctx, 1); err != nil {
						t.Errorf("sign-in %s: %v", term.ID, err)
						return
					}
				} else if lastReq[i] != nil {
					// A retransmission after the restart gets the original
					// answer, byte for byte, and is not done twice.
					ans, err := c.RoundTrip(ctx, lastReq[i])
					if err == nil && string(ans) != string(lastAns[i]) {
						t.Errorf("%s: retransmission after restart got a different answer", term.ID)
					}
				}
				first := true
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					amt := int64(1 + (n*7+i)%97)
					m := term.CardPurchase(cardOf(i), amt, nil)
					resp, raw, err := term.Send(ctx, m, true)
					if err != nil {
						mu.Lock()
						unanswered[i] += amt
						mu.Unlock()
						return
					}
					rc := posclient.RC(resp)
					if first && rc == "77" {
						t.Errorf("%s: signed out by a restart", term.ID)
					}
					first = false
					if rc == "00" {
						mu.Lock()
						approved[i] += amt
						mu.Unlock()
						lastAns[i] = raw
						b, _ := iso8583AppendFrame(m, term.MAK)
						lastReq[i] = b
					}
				}
			}(i)
		}
		time.Sleep(time.Duration(150+rng.IntN(500)) * time.Millisecond)
		p.kill9()
		close(stop)
		wg.Wait()
		t.Logf("cycle %d: killed", cycle)
	}
	// A last clean run shuts down gracefully.
	p := startProc(t, bin, cfg)
	held.closeAll()
	p.term(t)

	db, err := store.Open(filepath.Join(dir, "gw.db"), store.Options{})
	require.NoError(t, err)
	defer db.Close()
	total := int64(0)
	require.NoError(t, db.View(func(tx *store.Tx) error {
		for i := 1; i <= terms; i++ {
			a, ok, err := tx.Account(uint64(i))
			require.NoError(t, err)
			require.True(t, ok)
			debited := balance - a.BalanceFen
			total += approved[i]
			require.LessOrEqual(t, approved[i], debited, "card %d: an approved purchase was lost", i)
			require.LessOrEqual(t, debited, approved[i]+unanswered[i], "card %d: debited more than approved + unanswered", i)
		}
		return nil
	}))
	require.Positive(t, total, "the load approved nothing")
	fmt.Fprintf(os.Stderr, "crash test: %d fen approved over %d kill -9 cycles\n", total, cycles)
}
