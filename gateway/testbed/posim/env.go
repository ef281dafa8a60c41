package posim

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"
	"ecardgw/gateway/config"
	"ecardgw/gateway/daemon"
	"ecardgw/store"
	"ecardgw/store/accountscsv"
)

// EnvSpec describes a simulation environment: a standalone gateway with
// POS and settlement terminals, accounts with cards, and a campus-code
// issuer, all generated.
type EnvSpec struct {
	Dir        string
	POS        int    // canteen POS terminals T0000001..
	Settlement int    // settlement POS S0000001..
	Accounts   int    // accounts 1..n, cards 1000000000NN
	Balance    int64  // fen per account (default 1,000,000,000)
	POSAddr    string // default 127.0.0.1:0
	AdminAddr  string // default 127.0.0.1:0
	Workers    int    // server.workers; 0: the gateway's default
	// PaymentsURL is payments.url: the payment service (the reference
	// centre) that WeChat and Alipay codes go to; "" answers them 91.
	PaymentsURL string
	Extra       string // appended to the YAML
	// DoubleMAK configures the POS terminals with `mak: 3des` (a
	// double-length MAK, ANSI X9.19 MACs).
	DoubleMAK bool
}

// Env is a written environment.
type Env struct {
	Dir, Config, Keys, Accounts, IssuerKey, Store string
}

// CardNumber is account i's card number in an environment.
func CardNumber(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }

// WriteEnv writes the configuration, a key file with fresh keys, the
// accounts CSV and an Ed25519 issuer key under spec.Dir, and imports the
// accounts into the store.
func WriteEnv(spec EnvSpec) (*Env, error) {
	if spec.Balance == 0 {
		spec.Balance = 1_000_000_000
	}
	if spec.POSAddr == "" {
		spec.POSAddr = "127.0.0.1:0"
	}
	if spec.AdminAddr == "" {
		spec.AdminAddr = "127.0.0.1:0"
	}
	dir := spec.Dir
	e := &Env{Dir: dir, Config: filepath.Join(dir, "ecardgw.yaml"), Keys: filepath.Join(dir, "keys.yaml"),
		Accounts: filepath.Join(dir, "accounts.csv"), IssuerKey: filepath.Join(dir, "issuer.key"),
		Store: filepath.Join(dir, "ecardgw.db")}
	key, err := issuer.GenerateKey(campuscode.Ed25519, 1, crand.Reader)
	if err != nil {
		return nil, err
	}
	if err := key.Save(e.IssuerKey); err != nil {
		return nil, err
	}
	keys := &config.Keys{Terminals: map[string]config.Secret{}, WalletMasterLoadKey: secret(16),
		StorageKey: secret(32), ServiceTokens: []config.Secret{config.Secret("posim_" + hex.EncodeToString(secret(20)))}}
	var cfg bytes.Buffer
	fmt.Fprintf(&cfg, "mode: standalone\nlisten: {pos: %q, admin: %q, service: 127.0.0.1:0}\n", spec.POSAddr, spec.AdminAddr)
	fmt.Fprintf(&cfg, "store: {path: %q}\nkeys: {file: %q}\nlog: {level: warn}\n", e.Store, e.Keys)
	// Everything else in server: is the gateway's default, so the figures
	// are those of the configuration operators run.
	fmt.Fprintf(&cfg, "server: {max_conns: %d, idle_timeout: 15m", MaxTerminals+100)
	if spec.Workers > 0 {
		fmt.Fprintf(&cfg, ", workers: %d", spec.Workers)
	}
	cfg.WriteString("}\n")
	fmt.Fprintf(&cfg, "campuscode:\n  validity: 60s\n  skew: 30s\n  algorithms: [ed25519]\n  issuers:\n")
	fmt.Fprintf(&cfg, "    - {key_id: 1, algorithm: ed25519, public_key: %x}\n", key.PublicKey())
	if spec.PaymentsURL != "" {
		fmt.Fprintf(&cfg, "payments: {url: %q}\n", spec.PaymentsURL)
	}
	cfg.WriteString("terminals:\n")
	add := func(id, merchant, typ string) {
		fmt.Fprintf(&cfg, "  - {id: %s, merchant: %s, type: %s}\n", id, merchant, typ)
		keys.Terminals[id] = secret(16)
	}
	posType := "pos"
	if spec.DoubleMAK {
		posType += ", mak: 3des"
	}
	for i := 1; i <= spec.POS; i++ {
		add(fmt.Sprintf("T%07d", i), "M00000000000001", posType)
	}
	for i := 1; i <= spec.Settlement; i++ {
		add(fmt.Sprintf("S%07d", i), "M00000000000002", "settlement")
	}
	cfg.WriteString(spec.Extra)
	if err := config.WriteKeys(e.Keys, keys); err != nil {
		return nil, err
	}
	if err := os.WriteFile(e.Config, cfg.Bytes(), 0o600); err != nil {
		return nil, err
	}
	rows := make([]store.Account, spec.Accounts)
	for i := range rows {
		c := CardNumber(i + 1)
		rows[i] = store.Account{No: uint64(i + 1), Name: fmt.Sprintf("Student %d", i+1), CardNumber: c,
			CardSerial: "86100001" + c, BalanceFen: spec.Balance, Status: store.StatusActive}
	}
	var csv bytes.Buffer
	if err := accountscsv.Write(&csv, rows); err != nil {
		return nil, err
	}
	if err := os.WriteFile(e.Accounts, csv.Bytes(), 0o600); err != nil {
		return nil, err
	}
	db, err := store.Open(e.Store, store.Options{StorageKey: keys.StorageKey})
	if err != nil {
		return nil, err
	}
	if _, _, err := db.ImportAccounts(context.Background(), rows); err != nil {
		_ = db.Close()
		return nil, err
	}
	return e, db.Close()
}

func secret(n int) config.Secret {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return b
}

// Start runs the environment's gateway in this process; Stop it when done.
func (e *Env) Start() (*daemon.Daemon, error) {
	cfg, err := config.Load(e.Config)
	if err != nil {
		return nil, err
	}
	keys, err := config.LoadKeys(cfg.Keys.File)
	if err != nil {
		return nil, err
	}
	d, err := daemon.New(cfg, keys, daemon.Options{ConfigPath: e.Config, ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := d.Start(); err != nil {
		return nil, err
	}
	return d, nil
}

// Fleet is the environment seen by the simulator, aimed at addr.
func (e *Env) Fleet(addr string) (*Fleet, error) {
	f, err := LoadFleet(e.Config, e.Accounts, e.IssuerKey)
	if err != nil {
		return nil, err
	}
	f.Addr = addr
	return f, nil
}
