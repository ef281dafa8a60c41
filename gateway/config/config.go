package config

import (
	"net/netip"
	"time"
)

// Mode says where the ledger of record is.
type Mode string

const (
	// ModeStandalone: the gateway's own store is the ledger.
	ModeStandalone Mode = "standalone"
	// ModeConnected: the card centre is the ledger; the gateway stands in.
	ModeConnected Mode = "connected"
)

// TerminalType is what a terminal is allowed to do.
type TerminalType string

const (
	TerminalPOS        TerminalType = "pos"
	TerminalSettlement TerminalType = "settlement"
	TerminalKiosk      TerminalType = "kiosk"
)

// Algorithm names a campus-code signature algorithm as written in the file.
type Algorithm string

const (
	AlgEd25519 Algorithm = "ed25519"
	AlgSM2     Algorithm = "sm2"
)

// Config is the validated configuration. The mapstructure tags are the
// contract with operators' files; do not rename them.
type Config struct {
	Mode       Mode       `mapstructure:"mode"`
	Listen     Listen     `mapstructure:"listen"`
	Store      Store      `mapstructure:"store"`
	Keys       KeyFile    `mapstructure:"keys"`
	Terminals  []Terminal `mapstructure:"terminals"`
	CampusCode CampusCode `mapstructure:"campuscode"`
	Server     Server     `mapstructure:"server"`
	Limits     Limits     `mapstructure:"limits"`
	Centre     Centre     `mapstructure:"centre"`
	StandIn    StandIn    `mapstructure:"standin"`
	Payments   Payments   `mapstructure:"payments"`
	Log        Log        `mapstructure:"log"`
	CardIO     CardIO     `mapstructure:"cardio"`
	Forward    Forward    `mapstructure:"forward"`
	Session    Session    `mapstructure:"session"`
	Admin      Admin      `mapstructure:"admin"`
	Retention  Retention  `mapstructure:"retention"`
	Gateway    Gateway    `mapstructure:"gateway"`

	// Warnings are things that load fine but are probably not intended
	// (no terminals, TLS verification off). The caller logs them.
	Warnings []string `mapstructure:"-"`

	terminalIndex map[string]int
}

// Listen holds host:port addresses. Port 0 picks a free port (tests).
type Listen struct {
	POS     string `mapstructure:"pos"`
	Admin   string `mapstructure:"admin"`
	Service string `mapstructure:"service"`
}

// Admin tunes the admin listener (listen.admin).
type Admin struct {
	// TransferTimeout bounds one journal export or backup from start to
	// end: a client that reads slowly or stops reading is cut off then,
	// and the backup's read transaction ends.
	TransferTimeout time.Duration `mapstructure:"transfer_timeout"`
	// AllowedHosts are host names accepted in the Host header besides
	// the listen address itself (and localhost on loopback), for example
	// the DNS name Prometheus scrapes a management-network listener by.
	AllowedHosts []string `mapstructure:"allowed_hosts"`
}

// Store is the bbolt file. A relative path is relative to the working
// directory, not to the configuration file.
type Store struct {
	Path string `mapstructure:"path"`
	// GroupCommitWait is how long the committer, when busy, waits to
	// gather more requests into one fsynced commit (store.Options.Linger).
	GroupCommitWait time.Duration `mapstructure:"group_commit_wait"`
	// CheckWait is how long a start waits for the store's consistency
	// check before it serves; a check still running then goes on behind
	// (store.Options.CheckWait). 0: every page is checked before serving.
	CheckWait time.Duration `mapstructure:"check_wait"`
}

// KeyFile names the key file (see LoadKeys).
type KeyFile struct {
	File string `mapstructure:"file"`
}

// Terminal is one POS, settlement POS or kiosk allowed to sign in.
type Terminal struct {
	ID       string       `mapstructure:"id"`       // field 41, ans8
	Merchant string       `mapstructure:"merchant"` // field 42, ans15
	Type     TerminalType `mapstructure:"type"`
	Location string       `mapstructure:"location"`
	// MAK is the working MAC key its sign-ins deliver: des (the default,
	// "" too) the spec's single-DES MAK, 3des a double-length one under
	// which MACs are ANSI X9.19 (docs/protocol.md section 6).
	MAK MAKKind `mapstructure:"mak"`
	// LegacySignOut accepts its sign-out without a MAC, rate limited
	// (docs/protocol.md section 4.3): anyone who knows its ids can then
	// sign it out.
	LegacySignOut bool `mapstructure:"legacy_signout"`
	// Disabled keeps the terminal configured, with its master key, but
	// refuses everything it sends with 03 (ecardgw terminals disable).
	Disabled bool `mapstructure:"disabled"`
}

// MAKKind is a terminal's working MAC key, as written in the file.
type MAKKind string

const (
	MAKDES  MAKKind = "des"
	MAK3DES MAKKind = "3des"
)

// DoubleMAK reports whether the terminal gets a double-length MAK.
func (t Terminal) DoubleMAK() bool { return t.MAK == MAK3DES }

// Retention says how long the store keeps journal records and outbox
// entries; older ones are exported to a file in ArchiveDir first, then
// removed. Zero keeps them for ever (the default).
type Retention struct {
	Journal time.Duration `mapstructure:"journal"` // journal records older than this
	Outbox  time.Duration `mapstructure:"outbox"`  // undelivered outbox entries older than this
	// Idempotency prunes the idempotency records (retransmission answers,
	// refundable amounts) of requests older than this; at most Journal.
	Idempotency time.Duration `mapstructure:"idempotency"`
	ArchiveDir  string        `mapstructure:"archive_dir"` // where the archive files go
	Interval    time.Duration `mapstructure:"interval"`    // how often the running gateway prunes
}

// Enabled reports whether anything is pruned.
func (r Retention) Enabled() bool { return r.Journal > 0 || r.Outbox > 0 || r.Idempotency > 0 }

// Session configures terminal sessions.
type Session struct {
	// KeyLifetime is how long a sign-in's working keys are good for; then
	// the terminal must sign in again.
	KeyLifetime time.Duration `mapstructure:"key_lifetime"`
}

// CampusCode configures offline verification of campus codes.
type CampusCode struct {
	Validity             time.Duration `mapstructure:"validity"`
	Skew                 time.Duration `mapstructure:"skew"`
	Algorithms           []Algorithm   `mapstructure:"algorithms"`
	CacheSize            int           `mapstructure:"cache_size"` // 0 disables the certificate cache
	LossBlocksCampusCode bool          `mapstructure:"loss_blocks_campus_code"`
	Issuers              []Issuer      `mapstructure:"issuers"`
}

// Enabled reports whether a is in the enabled algorithm list.
func (c CampusCode) Enabled(a Algorithm) bool {
	for _, x := range c.Algorithms {
		if x == a {
			return true
		}
	}
	return false
}

// Issuer is one public key of the campus-code issuer's key ring. The
// text fields are as written in the file; PublicKey, NotBefore and
// NotAfter are filled from them by Load.
type Issuer struct {
	KeyID         uint32    `mapstructure:"key_id"`
	Algorithm     Algorithm `mapstructure:"algorithm"`
	PublicKeyHex  string    `mapstructure:"public_key"`
	NotBeforeText string    `mapstructure:"not_before"`
	NotAfterText  string    `mapstructure:"not_after"`
	Revoked       bool      `mapstructure:"revoked"`

	PublicKey []byte    `mapstructure:"-"` // Ed25519: 32 bytes; SM2: 33-byte compressed point
	NotBefore time.Time `mapstructure:"-"` // zero: no lower bound
	NotAfter  time.Time `mapstructure:"-"` // zero: no upper bound
}

// Server tunes the POS listener.
type Server struct {
	MaxFrame    int           `mapstructure:"max_frame"` // bytes after LEN
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	MaxConns    int           `mapstructure:"max_conns"`
	Workers     int           `mapstructure:"workers"`
	MaxInFlight int           `mapstructure:"max_in_flight"` // per connection
	Multicore   bool          `mapstructure:"multicore"`
	// GOGC is the Go collector's heap growth target in percent (the GOGC
	// environment variable, which wins when set). The gateway's live heap
	// is small (tens of MB) and its box has memory to spare: a collection
	// takes a core and makes allocating goroutines help, and under load
	// every one shows in the latency tail, so collect rarely.
	GOGC int `mapstructure:"gogc"`
	// MemoryLimitMB is the Go runtime's soft memory limit (GOMEMLIMIT, which
	// wins when set): past it the collector runs as often as it must, so a
	// high GOGC can never let the heap grow beyond it. 0: no limit.
	MemoryLimitMB int `mapstructure:"memory_limit_mb"`
	// GoMaxProcs is the number of goroutines the Go runtime runs at once
	// (the GOMAXPROCS environment variable, which wins when set). 0: the
	// runtime's own default plus one per POS event loop. Each event loop
	// waits for the network in a blocking epoll_wait system call, and the
	// runtime lets a goroutine in a system call keep its processor until
	// its monitor takes it back (20 µs to 10 ms later): with as many
	// processors as cores, the workers and the store's committer wait for
	// those hand-backs while a core idles.
	GoMaxProcs int `mapstructure:"gomaxprocs"`

	// FrameTimeout: a frame must be complete this long after its first
	// byte, or the connection is closed (half frames trickled in a byte
	// at a time, which the idle timeout never catches).
	FrameTimeout time.Duration `mapstructure:"frame_timeout"`
	// MaxConnsPerAddr caps the connections from one source IP address,
	// so that one host cannot take the whole server.max_conns.
	MaxConnsPerAddr int `mapstructure:"max_conns_per_addr"`
	// TrustedAddrs are IP addresses or CIDR ranges, as written (terminal
	// subnets, a NAT in front of all terminals), to which
	// MaxConnsPerTrustedAddr applies instead of MaxConnsPerAddr;
	// TrustedPrefixes is filled from them by Load.
	TrustedAddrs    []string       `mapstructure:"trusted_addrs"`
	TrustedPrefixes []netip.Prefix `mapstructure:"-"`
	// MaxConnsPerTrustedAddr caps the connections from one trusted
	// address; 0: no per-address cap for them (server.max_conns applies).
	MaxConnsPerTrustedAddr int `mapstructure:"max_conns_per_trusted_addr"`

	// BufferBudgetMB bounds, across all POS connections, the memory held
	// for requests taken off connections and not yet answered and for
	// answers the sockets have not yet taken; at it, reading pauses until
	// answers drain. 0: see BufferBudget.
	BufferBudgetMB int `mapstructure:"buffer_budget_mb"`
}

// BufferBudget is server.buffer_budget_mb in bytes; 0 there means a
// quarter of server.memory_limit_mb (at least 16 MB), or 256 MB without a
// memory limit. A quarter leaves the rest of the limit to the live heap,
// the bytes terminals have sent but the server has not taken (up to
// 64 KiB a connection) and the collector's headroom.
func (s Server) BufferBudget() int64 {
	mb := s.BufferBudgetMB
	if mb == 0 {
		mb = 256
		if s.MemoryLimitMB != 0 {
			mb = max(s.MemoryLimitMB/4, 16)
		}
	}
	return int64(mb) << 20
}

// Limits are money limits in fen.
type Limits struct {
	DailyFen       int64 `mapstructure:"daily_fen"` // 0: no daily limit
	TopupMaxFen    int64 `mapstructure:"topup_max_fen"`
	WalletLimitFen int64 `mapstructure:"wallet_limit_fen"`
	// AdviceMaxFen caps one offline advice (0220): above it the advice is
	// answered 13 and journaled as an exception, nothing debited.
	AdviceMaxFen int64 `mapstructure:"advice_max_fen"`
}

// Centre is the card centre's HTTP interface (connected mode). Its TLS
// settings and the key file's upstream.centre_token also serve
// payments.url.
type Centre struct {
	URL     string        `mapstructure:"url"`
	Timeout time.Duration `mapstructure:"timeout"`
	TLS     TLS           `mapstructure:"tls"`
	// Insecure allows a plain http:// URL to a host that is not loopback.
	Insecure bool `mapstructure:"insecure"`
	// BreakerFailures consecutive authorizations without an answer open
	// the circuit breaker: requests then stand in at once; after
	// BreakerOpen one request probes the centre.
	BreakerFailures int           `mapstructure:"breaker_failures"`
	BreakerOpen     time.Duration `mapstructure:"breaker_open"`
}

// TLS configures the client side of an upstream link (the centre and the
// payment service, NATS): the CA that verifies the server (default: the
// system roots) and the gateway's client certificate. KeyFile must be
// readable by its owner only. See upstream.go.
type TLS struct {
	CAFile             string `mapstructure:"ca_file"`
	CertFile           string `mapstructure:"cert_file"`
	KeyFile            string `mapstructure:"key_file"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
}

// StandIn limits what the gateway approves when the centre is silent.
type StandIn struct {
	PerTxnFen     int64 `mapstructure:"per_txn_fen"`
	PerAccountFen int64 `mapstructure:"per_account_fen"`
}

// Payments is the third-party payment service used in standalone mode.
type Payments struct {
	URL          string        `mapstructure:"url"` // "": third-party payments answer 91
	PollLimit    time.Duration `mapstructure:"poll_limit"`
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// MaxPending bounds the code payments waiting for their channel, all
	// terminals together, MaxPendingPerTerminal those of one terminal;
	// past either a new code payment is refused at once (P4).
	MaxPending            int `mapstructure:"max_pending"`
	MaxPendingPerTerminal int `mapstructure:"max_pending_per_terminal"`
	// Insecure allows a plain http:// URL to a host that is not loopback.
	// The payment service is reached with centre.tls and the centre token.
	Insecure bool `mapstructure:"insecure"`
	// WeChat and Alipay, when their url is set, are reached directly by
	// the channel adapters instead of through payments.url (channels.go).
	WeChat WeChatPay `mapstructure:"wechat"`
	Alipay AlipayPay `mapstructure:"alipay"`
}

// Log configures slog.
type Log struct {
	Level  string `mapstructure:"level"`  // debug | info | warn | error
	Format string `mapstructure:"format"` // text | json
}

// CardIO configures the gateway's own PC/SC readers.
type CardIO struct {
	Enabled bool     `mapstructure:"enabled"`
	Readers []Reader `mapstructure:"readers"`
}

// ReaderRole is what a local reader is used for.
type ReaderRole string

const (
	RoleDesk       ReaderRole = "desk"
	RoleSettlement ReaderRole = "settlement"
)

// Reader binds PC/SC readers whose name contains Match to a terminal id
// used in journal records for work done at that reader.
type Reader struct {
	Match    string     `mapstructure:"match"`
	Terminal string     `mapstructure:"terminal"`
	Role     ReaderRole `mapstructure:"role"`
}

// Forward configures record forwarding to a stream.
type Forward struct {
	NATS NATS `mapstructure:"nats"`
}

// NATS is the JetStream sink and the shared campus-code replay record.
type NATS struct {
	URL          string `mapstructure:"url"` // "": no stream forwarding
	Stream       string `mapstructure:"stream"`
	Subject      string `mapstructure:"subject"`
	ReplayBucket string `mapstructure:"replay_bucket"` // "": replay record is local only
	// TLS is used for every server of URL (a nats:// URL then requires
	// TLS from the server).
	TLS TLS `mapstructure:"tls"`
	// NKeyFile is a NATS nkey seed file (owner-only mode); the user and
	// password or the token are in the key file (upstream.nats_*).
	NKeyFile string `mapstructure:"nkey_file"`
	// Insecure allows a plain URL (nats://, ws:// without tls) to a host
	// that is not loopback.
	Insecure bool `mapstructure:"insecure"`
}

// Terminal returns the configured terminal with this id.
func (c *Config) Terminal(id string) (Terminal, bool) {
	if c.terminalIndex == nil {
		for _, t := range c.Terminals {
			if t.ID == id {
				return t, true
			}
		}
		return Terminal{}, false
	}
	i, ok := c.terminalIndex[id]
	if !ok {
		return Terminal{}, false
	}
	return c.Terminals[i], true
}
