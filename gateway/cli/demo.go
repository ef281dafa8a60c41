package cli

import (
	"time"

	"bytes"
	"crypto/rand"
	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"ecardgw/gateway/config"
)

func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Set up a demonstration gateway on this machine",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usagef("demo: missing subcommand (init)")
		},
	}
	cmd.AddCommand(newDemoInitCmd())
	return cmd
}

func newDemoInitCmd() *cobra.Command {
	var (
		dir   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a demo configuration, fresh keys and demo accounts",
		Long: `Write keys.yaml (fresh random keys, mode 0600), ecardgw.yaml (standalone,
loopback listeners, demo terminals) and accounts.csv (demo accounts) into
--dir, creating it with mode 0700. Files that exist are left alone unless
--force is given. Paths inside ecardgw.yaml are relative to the current
directory, so run the gateway from where you ran this.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeDemo(dir, force, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "./var", "`DIR` for the demo files")
	cmd.Flags().BoolVar(&force, "force", false, "replace existing files (generates new keys)")
	return cmd
}

// demoSetup is shared by the parts of one demo init run; a part that needs
// something an earlier part made (a public key for the configuration)
// finds it here.
type demoSetup struct {
	dir    string // as the user gave it, cleaned
	force  bool
	issuer *issuer.Key // the demo campus-code issuer (made or loaded)
}

// path names a file in the demo directory the way it is written into the
// configuration: relative to the working directory with a leading "./",
// or absolute.
func (d *demoSetup) path(name string) string {
	p := filepath.Join(d.dir, name)
	if filepath.IsAbs(p) || strings.HasPrefix(p, ".."+string(filepath.Separator)) {
		return p
	}
	return "." + string(filepath.Separator) + p
}

// demoPart is one file that demo init writes. build returns the content
// and a one-line summary for the user, which must never contain key
// material. Parts run in order.
type demoPart struct {
	name  string
	mode  os.FileMode
	build func(d *demoSetup) (content []byte, summary string, err error)
}

var demoParts = []demoPart{
	{"keys.yaml", 0o600, demoKeys},
	{demoIssuerFile, 0o600, demoIssuer},
	{"ecardgw.yaml", 0o600, demoConfig},
	{"accounts.csv", 0o600, demoAccountsCSV},
	{demoDeviceFile, 0o600, demoDevice},
}

// The demo's campus-code issuing side. In production the issuer's private
// key lives with the app's back end and never on the gateway box; the
// demo keeps it in the demo directory so that codes can be made on the
// spot with "ecardgw code show".
const (
	demoIssuerFile = "issuer-ed25519.key"
	demoDeviceFile = "device-20260001.key"
)

// demoIssuerKey returns the demo issuer, loading a kept key file.
func (d *demoSetup) demoIssuerKey() (*issuer.Key, error) {
	if d.issuer != nil {
		return d.issuer, nil
	}
	k, err := issuer.LoadKey(filepath.Join(d.dir, demoIssuerFile))
	if err != nil {
		return nil, err
	}
	d.issuer = k
	return k, nil
}

// saved runs save into a scratch file and returns what it wrote, so the
// issuer package's own file format is used.
func saved(save func(path string) error) ([]byte, error) {
	dir, err := os.MkdirTemp("", "ecardgw-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "f")
	if err := save(path); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func demoIssuer(d *demoSetup) ([]byte, string, error) {
	k, err := issuer.GenerateKey(campuscode.Ed25519, 1, rand.Reader)
	if err != nil {
		return nil, "", err
	}
	d.issuer = k
	b, err := saved(k.Save)
	return b, "campus-code issuer key (Ed25519, key id 1), for the demo only", err
}

func demoDevice(d *demoSetup) ([]byte, string, error) {
	k, err := d.demoIssuerKey()
	if err != nil {
		return nil, "", err
	}
	now := time.Now().UTC()
	dev, err := issuer.NewDevice(k, 1, demoAccounts[0].no, now.Add(-time.Hour), now.AddDate(1, 0, 0), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	b, err := saved(dev.Save)
	return b, fmt.Sprintf("a phone's campus-code key for account %d (ecardgw code show --cert %s)",
		demoAccounts[0].no, d.path(demoDeviceFile)), err
}

// writeDemo creates dir and writes every demo part into it, leaving
// existing files alone unless force is set. It reports to out what it did.
func writeDemo(dir string, force bool, out io.Writer) error {
	d := &demoSetup{dir: filepath.Clean(dir), force: force}
	if err := demoDir(d.dir, d.path(""), out); err != nil {
		return err
	}
	for _, p := range demoParts {
		path := d.path(p.name)
		if !force {
			_, err := os.Lstat(path)
			if err == nil {
				fmt.Fprintf(out, "kept    %s (exists; --force replaces it)\n", path)
				continue
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		content, summary, err := p.build(d)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", path, err)
		}
		if err := writeFileAtomic(path, content, p.mode, force); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(out, "wrote   %s (mode %04o): %s\n", path, p.mode, summary)
	}
	fmt.Fprintf(out, "next    ecardgw accounts import --config %s %s\n        ecardgw serve --config %s\n",
		d.path("ecardgw.yaml"), d.path("accounts.csv"), d.path("ecardgw.yaml"))
	return nil
}

func demoDir(dir, shown string, out io.Writer) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("demo: %s exists and is not a directory", dir)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "created %s (mode 0700)\n", shown)
	return nil
}

// writeFileAtomic writes through a temporary file so that a crash never
// leaves half a key file that a later run would keep. Without replace it
// links the file into place, which fails if someone created it meanwhile.
func writeFileAtomic(path string, content []byte, mode os.FileMode, replace bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demo-*.tmp") // 0600 from the start
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if replace {
		return os.Rename(tmp.Name(), path)
	}
	return os.Link(tmp.Name(), path)
}

func randomSecret(n int) config.Secret {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes instead)
	return b
}

func demoKeys(d *demoSetup) ([]byte, string, error) {
	k := &config.Keys{
		Terminals:           make(map[string]config.Secret, len(demoTerminals)),
		WalletMasterLoadKey: randomSecret(config.WalletKeySize),
		StorageKey:          randomSecret(config.StorageKeySize),
		ServiceTokens:       []config.Secret{config.Secret("ecgw_" + base64.RawURLEncoding.EncodeToString(randomSecret(32)))},
		// For `ecardgw journal` and `store backup` against the running demo.
		AdminTokens: []config.Secret{config.Secret("ecgw_admin_" + base64.RawURLEncoding.EncodeToString(randomSecret(32)))},
	}
	ids := make([]string, len(demoTerminals))
	for i, t := range demoTerminals {
		k.Terminals[t.ID] = randomSecret(config.TMKSize)
		ids[i] = t.ID
	}
	summary := fmt.Sprintf("TMKs for %s, wallet master load key, storage key, 1 service token (service_tokens), 1 admin token (admin_tokens)",
		strings.Join(ids, ", "))
	if _, err := os.Stat(d.path("ecardgw.db")); err == nil && d.force {
		summary += "; the existing store's sessions were sealed with the old storage key, so terminals must sign in again"
	}
	return k.Marshal(), summary, nil
}

// Demo listeners: loopback only, the defaults of the configuration.
const (
	demoPOS     = "127.0.0.1:8583"
	demoAdmin   = "127.0.0.1:9100"
	demoService = "127.0.0.1:9200"
)

var demoTerminals = []config.Terminal{
	{ID: "T0000001", Merchant: "M00000000000001", Type: config.TerminalPOS, Location: "North canteen, window 1"},
	{ID: "T0000002", Merchant: "M00000000000001", Type: config.TerminalPOS, Location: "North canteen, window 2"},
	{ID: "S0000001", Merchant: "M00000000000002", Type: config.TerminalSettlement, Location: "Xiaoying bath house"},
	{ID: "K0000001", Merchant: "M00000000000003", Type: config.TerminalKiosk, Location: "Library self-service kiosk"},
}

func demoConfig(d *demoSetup) ([]byte, string, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# ecardgw demo configuration, written by "ecardgw demo init".
# Relative paths are relative to the directory the gateway runs in.
# See testdata/config/example.yaml for every key.
mode: standalone
listen:
  pos: %s
  admin: %s
  service: %s
store:
  path: %q
keys:
  file: %q
terminals:
`, demoPOS, demoAdmin, demoService, d.path("ecardgw.db"), d.path("keys.yaml"))
	for _, t := range demoTerminals {
		fmt.Fprintf(&b, "  - {id: %q, merchant: %q, type: %s, location: %q}\n", t.ID, t.Merchant, t.Type, t.Location)
	}
	k, err := d.demoIssuerKey()
	if err != nil {
		return nil, "", err
	}
	fmt.Fprintf(&b, "campuscode:\n  validity: 60s\n  skew: 30s\n  algorithms: [ed25519, sm2]\n"+
		"  issuers:\n    - {key_id: 1, algorithm: ed25519, public_key: %x}\n", k.PublicKey())
	b.WriteString(`log:
  level: info
  format: text
`)
	summary := fmt.Sprintf("standalone; POS %s, admin %s, service %s; %d terminals",
		demoPOS, demoAdmin, demoService, len(demoTerminals))
	return b.Bytes(), summary, nil
}

// demoAccountsHeader is the accounts import format (store/accountscsv).
const demoAccountsHeader = "account,name,card_number,card_serial,balance_fen,status,staff_no"

// demoSerialPrefix makes the 20-digit application serial; its last 12
// digits are the card number (shared/spec/card.md).
const demoSerialPrefix = "86100001"

var demoAccounts = []struct {
	no      uint64
	name    string
	card    string
	balance int64
	status  string
	staffNo string
}{
	{20260001, "张伟", "000000100001", 15000, "active", "2023010001"},
	{20260002, "王芳", "000000100002", 8800, "active", "2023010002"},
	{20260003, "李娜", "000000100003", 250, "active", "2023010003"},
	{20260004, "刘洋", "000000100004", 120000, "active", "2024020004"},
	{20260005, "陈静", "000000100005", 5000, "frozen", "2024020005"},
	{20260006, "杨磊", "000000100006", 30000, "lost", "2024020006"},
	{20260007, "赵敏", "000000100007", 0, "active", "2025030007"},
	{20260008, "黄强", "000000100008", 99900, "active", "2025030008"},
	{20260009, "Olivia Chen", "000000100009", 4200, "active", "2025090009"},
	{20260010, "周老师", "000000100010", 50000, "active", "T19980010"},
}

func demoAccountsCSV(*demoSetup) ([]byte, string, error) {
	var b bytes.Buffer
	b.WriteString(demoAccountsHeader + "\n")
	w := csv.NewWriter(&b)
	counts := map[string]int{}
	for _, a := range demoAccounts {
		counts[a.status]++
		rec := []string{strconv.FormatUint(a.no, 10), a.name, a.card, demoSerialPrefix + a.card,
			strconv.FormatInt(a.balance, 10), a.status, a.staffNo}
		if err := w.Write(rec); err != nil {
			return nil, "", err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, "", err
	}
	summary := fmt.Sprintf("%d accounts (%d active, %d frozen, %d lost)",
		len(demoAccounts), counts["active"], counts["frozen"], counts["lost"])
	return b.Bytes(), summary, nil
}
