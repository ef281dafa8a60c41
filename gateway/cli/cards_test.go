package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"ecardgw/cardio/apdu"
	"ecardgw/cardio/reader"
	"ecardgw/cardio/vcard"
)

// The reader manager itself is tested end to end through pcscd in
// cardio/reader; here the command's own parts: flags and what it prints.

var cardsMaster = [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}

func TestCardsPrintsMaskedCard(t *testing.T) {
	v, err := vcard.New(vcard.DemoConfig(cardsMaster))
	require.NoError(t, err)
	require.NoError(t, v.Spend(5))

	var out bytes.Buffer
	p := &cardPrinter{w: &out}
	r := reader.ReaderInfo{Name: "Virtual PCD 00 00", Role: reader.RoleDesk}
	p.state(r, reader.StatePresent)
	p.card(r, v)
	s := out.String()
	require.Contains(t, s, `reader "Virtual PCD 00 00": present`)
	require.Contains(t, s, "number 20******4567")
	require.Contains(t, s, "account 10000042")
	require.Contains(t, s, "holder 张三 (student)")
	require.Contains(t, s, "wallet 3.45 yuan (345 fen)")
	require.Contains(t, s, "load counter 0")
	require.NotContains(t, s, "202601234567", "never the full card number")
	require.NotContains(t, s, "10000000202601234567", "never the serial")
}

type pulled struct{}

func (pulled) Transmit([]byte) ([]byte, error) { return nil, apdu.ErrCardRemoved }

func TestCardsPrintsReadError(t *testing.T) {
	var out bytes.Buffer
	p := &cardPrinter{w: &out}
	p.card(reader.ReaderInfo{Name: "R"}, pulled{})
	require.Contains(t, out.String(), `card on "R": `)
	require.Contains(t, out.String(), "card removed")
}

func TestCardsWatchUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"bad pattern":  {"watch", "--reader", "["},
		"negative for": {"watch", "--for", "-1s"},
		"extra args":   {"watch", "x"},
		"unknown flag": {"watch", "--nope"},
	} {
		t.Run(name, func(t *testing.T) {
			root := NewRoot()
			// Until the lead lists newCardsCmd in commands, add it here.
			if c, _, err := root.Find([]string{"cards"}); err != nil || c == root {
				root.AddCommand(newCardsCmd())
				markArgErrorsAsUsage(root)
			}
			var out bytes.Buffer
			code := execute(root, append([]string{"cards"}, args...), &out, &out)
			require.Equal(t, 2, code, out.String())
		})
	}
}

func TestWatchCardsRejectsBadBinding(t *testing.T) {
	err := watchCards(context.Background(), &strings.Builder{}, []reader.Binding{{Pattern: "[", Role: reader.RoleDesk}})
	require.ErrorIs(t, err, reader.ErrConfig)
}

// TestCardsWatchWithoutPcscd: with no pcscd to talk to (its socket named
// where nothing listens) `cards watch` exits 1 at once with a message that
// names pcscd and how to start it, instead of "watching card readers" and
// exit 0. libpcsclite reads the socket name once per process, so the
// command runs in a child process of this test binary.
func TestCardsWatchWithoutPcscd(t *testing.T) {
	if os.Getenv("ECARDGW_TEST_CARDS_CHILD") == "1" {
		os.Exit(execute(NewRoot(), []string{"cards", "watch", "--for", "30s"}, os.Stdout, os.Stderr))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCardsWatchWithoutPcscd$")
	cmd.Env = append(os.Environ(), "ECARDGW_TEST_CARDS_CHILD=1",
		"PCSCLITE_CSOCK_NAME="+filepath.Join(t.TempDir(), "no-pcscd.comm"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, string(out))
	require.Equal(t, 1, exit.ExitCode(), string(out))
	require.Less(t, time.Since(start), 20*time.Second, "fails at once, not after --for")
	require.Contains(t, string(out), "ecardgw: pcscd is not running")
	require.Contains(t, string(out), "systemctl start pcscd")
	require.NotContains(t, string(out), "watching card readers")
}
