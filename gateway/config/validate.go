package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// checker collects every problem so that an operator fixes the file in one
// pass instead of one error per restart.
type checker struct {
	errs  []error
	warns []string
}

func (ck *checker) bad(key, format string, args ...any) {
	ck.errs = append(ck.errs, &Error{Key: key, Problem: fmt.Sprintf(format, args...), Err: ErrInvalid})
}

func (ck *checker) warn(format string, args ...any) {
	ck.warns = append(ck.warns, fmt.Sprintf(format, args...))
}

// validate checks every value, fills the parsed issuer fields and the
// terminal index, and records warnings. It is idempotent: a Config that
// passed once passes again unchanged.
func (c *Config) validate() error {
	var ck checker
	switch c.Mode {
	case ModeStandalone, ModeConnected:
	default:
		ck.bad("mode", "%q is not standalone or connected", c.Mode)
	}
	c.validateListen(&ck)
	c.Admin.validate(&ck)
	ck.filePath("store.path", c.Store.Path)
	ck.duration("store.group_commit_wait", c.Store.GroupCommitWait, 0, 100*time.Millisecond)
	ck.duration("store.check_wait", c.Store.CheckWait, 0, time.Hour)
	ck.filePath("keys.file", c.Keys.File)
	c.validateTerminals(&ck)
	c.validateCampusCode(&ck)
	c.validateServer(&ck)
	c.validateMoney(&ck)
	c.validateCentre(&ck)
	c.validatePayments(&ck)
	c.validateChannels(&ck)
	c.validateLog(&ck)
	c.validateCardIO(&ck)
	c.Forward.NATS.validate(&ck)
	c.validateGateway(&ck)
	ck.duration("session.key_lifetime", c.Session.KeyLifetime, time.Minute, 30*24*time.Hour)
	c.Retention.validate(&ck)
	if len(ck.errs) > 0 {
		return errors.Join(ck.errs...)
	}
	c.Warnings = ck.warns
	c.terminalIndex = make(map[string]int, len(c.Terminals))
	for i, t := range c.Terminals {
		c.terminalIndex[t.ID] = i
	}
	return nil
}

func (c *Config) validateListen(ck *checker) {
	addrs := []struct{ key, addr string }{
		{"listen.pos", c.Listen.POS},
		{"listen.admin", c.Listen.Admin},
		{"listen.service", c.Listen.Service},
	}
	seen := map[string]string{}
	for _, a := range addrs {
		port, ok := ck.hostPort(a.key, a.addr)
		if !ok || port == 0 {
			continue
		}
		if other, dup := seen[a.addr]; dup {
			ck.bad(a.key, "%q is already used by %s", a.addr, other)
			continue
		}
		seen[a.addr] = a.key
	}
}

// validate checks the admin listener's settings: a transfer may take
// from a second to a day; allowed hosts are bare host names or IP
// addresses (the port is always the listener's).
func (a *Admin) validate(ck *checker) {
	ck.duration("admin.transfer_timeout", a.TransferTimeout, time.Second, 24*time.Hour)
	for i, h := range a.AllowedHosts {
		if _, err := netip.ParseAddr(h); err != nil && !hostName(h) {
			ck.bad(fmt.Sprintf("admin.allowed_hosts[%d]", i), "%q is not a host name or an IP address (no port)", h)
		}
	}
}

// hostName reports whether s is a DNS host name: dot-separated labels of
// letters, digits and hyphens, at most 253 characters.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// hostPort accepts host:port with a numeric port; an empty host means all
// interfaces and port 0 a free port.
func (ck *checker) hostPort(key, addr string) (int, bool) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		ck.bad(key, "%q is not host:port", addr)
		return 0, false
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		ck.bad(key, "%q: port %q is not a number from 0 to 65535", addr, p)
		return 0, false
	}
	if strings.ContainsFunc(host, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		ck.bad(key, "%q: host has spaces or control characters", addr)
		return 0, false
	}
	return port, true
}

func (ck *checker) filePath(key, p string) {
	if p == "" {
		ck.bad(key, "is required")
		return
	}
	if strings.ContainsRune(p, 0) {
		ck.bad(key, "has a NUL byte")
	}
}

// existingFile checks an optional file that must exist at start-up, so a
// typo in a TLS path fails now rather than at the first centre call. It
// returns the file's information when the file is there and regular.
func (ck *checker) existingFile(key, p string) os.FileInfo {
	if p == "" {
		return nil
	}
	st, err := os.Stat(p)
	if err != nil {
		ck.bad(key, "%q: %v", p, unwrapPathError(err))
		return nil
	}
	if !st.Mode().IsRegular() {
		ck.bad(key, "%q is not a regular file", p)
		return nil
	}
	return st
}

// ans reports whether s is exactly n printable ASCII characters (ISO 8583
// ans fields of fixed length are padded on the wire, so configured ids
// must already have the full length).
func ans(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func (c *Config) validateTerminals(ck *checker) {
	first := map[string]int{}
	for i, t := range c.Terminals {
		key := fmt.Sprintf("terminals[%d]", i)
		if !ans(t.ID, 8) {
			ck.bad(key+".id", "%q must be exactly 8 printable ASCII characters", t.ID)
		} else if j, dup := first[t.ID]; dup {
			ck.bad(key+".id", "%q is configured twice (also terminals[%d])", t.ID, j)
		} else {
			first[t.ID] = i
		}
		if !ans(t.Merchant, 15) {
			ck.bad(key+".merchant", "%q must be exactly 15 printable ASCII characters", t.Merchant)
		}
		switch t.Type {
		case TerminalPOS, TerminalSettlement, TerminalKiosk:
		default:
			ck.bad(key+".type", "%q is not pos, settlement or kiosk", t.Type)
		}
		if !utf8.ValidString(t.Location) || len(t.Location) > maxLocationLen ||
			strings.ContainsFunc(t.Location, unicode.IsControl) {
			ck.bad(key+".location", "must be UTF-8 text without control characters, at most %d bytes", maxLocationLen)
		}
		switch t.MAK {
		case "", MAKDES, MAK3DES:
		default:
			ck.bad(key+".mak", "%q is not des or 3des", t.MAK)
		}
		if t.LegacySignOut {
			ck.warn("%s.legacy_signout is true: %s accepts a sign-out without a MAC, so anyone who knows its ids can sign it out", key, t.ID)
		}
	}
	if len(c.Terminals) == 0 {
		ck.warn("no terminals are configured; no terminal can sign in")
	}
}

func (c *Config) validateServer(ck *checker) {
	s := c.Server
	if s.MaxFrame < minFrame || s.MaxFrame > maxFrame {
		ck.bad("server.max_frame", "%d is not between %d and %d", s.MaxFrame, minFrame, maxFrame)
	}
	if s.IdleTimeout <= 0 {
		ck.bad("server.idle_timeout", "%v must be positive", s.IdleTimeout)
	}
	ck.intRange("server.max_conns", s.MaxConns, 1, 1_000_000)
	ck.intRange("server.workers", s.Workers, 1, 65536)
	ck.intRange("server.max_in_flight", s.MaxInFlight, 1, 65536)
	ck.intRange("server.gogc", s.GOGC, 25, 10000)
	ck.intRange("server.gomaxprocs", s.GoMaxProcs, 0, 4096)
	if s.MemoryLimitMB != 0 {
		ck.intRange("server.memory_limit_mb", s.MemoryLimitMB, 64, 1<<20)
	}
	c.validateConnLimits(ck)
	c.validateBufferBudget(ck)
}

// validateBufferBudget keeps an explicit budget within half the memory
// limit: nearer the limit the collector would run without pause.
func (c *Config) validateBufferBudget(ck *checker) {
	s := c.Server
	ck.intRange("server.buffer_budget_mb", s.BufferBudgetMB, 0, 1<<20)
	if s.MemoryLimitMB != 0 && s.BufferBudgetMB > s.MemoryLimitMB/2 {
		ck.bad("server.buffer_budget_mb", "%d is more than half of server.memory_limit_mb (%d)", s.BufferBudgetMB, s.MemoryLimitMB)
	}
	// One request in flight on every connection should fit.
	if s.MaxFrame >= minFrame && s.MaxFrame <= maxFrame && s.MaxConns > 0 {
		if need := int64(s.MaxConns) * 2 * int64(s.MaxFrame+2); s.BufferBudget() < need {
			ck.warn("server.buffer_budget_mb (%d MB) is less than one request on each of server.max_conns connections (%d MB): reading pauses before every terminal has a request in flight",
				s.BufferBudget()>>20, need>>20)
		}
	}
}

// validateConnLimits checks the slow-frame timeout and the per-address
// caps, and fills TrustedPrefixes.
func (c *Config) validateConnLimits(ck *checker) {
	s := &c.Server
	ck.duration("server.frame_timeout", s.FrameTimeout, 100*time.Millisecond, 5*time.Minute)
	ck.intRange("server.max_conns_per_addr", s.MaxConnsPerAddr, 1, 1_000_000)
	ck.intRange("server.max_conns_per_trusted_addr", s.MaxConnsPerTrustedAddr, 0, 1_000_000)
	s.TrustedPrefixes = make([]netip.Prefix, 0, len(s.TrustedAddrs))
	for i, a := range s.TrustedAddrs {
		p, ok := parseAddrRange(a)
		if !ok {
			ck.bad(fmt.Sprintf("server.trusted_addrs[%d]", i), "%q is not an IP address or CIDR range such as 10.20.0.0/16", a)
			continue
		}
		if p.Bits() == 0 {
			ck.warn("server.trusted_addrs has %s: every address is trusted, server.max_conns_per_addr applies to none", p)
		}
		s.TrustedPrefixes = append(s.TrustedPrefixes, p)
	}
}

// parseAddrRange reads "10.20.0.0/16" or a single address ("10.20.0.7",
// "fd00::7"); host bits are cleared. IPv4-mapped IPv6 forms are refused:
// IPv4 sources are matched as IPv4.
func parseAddrRange(s string) (netip.Prefix, bool) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, false
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return p, false
	}
	return p.Masked(), true
}

func (ck *checker) intRange(key string, v, lo, hi int) {
	if v < lo || v > hi {
		ck.bad(key, "%d is not between %d and %d", v, lo, hi)
	}
}

func (ck *checker) duration(key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		ck.bad(key, "%v is not between %v and %v", d, lo, hi)
	}
}

// maxAdviceFen bounds limits.advice_max_fen: 100,000.00 yuan is no
// offline sale of a campus POS, whatever the campus.
const maxAdviceFen = 10_000_000

func (c *Config) validateMoney(ck *checker) {
	l := c.Limits
	if l.DailyFen < 0 {
		ck.bad("limits.daily_fen", "%d must not be negative (0 means no daily limit)", l.DailyFen)
	}
	if l.TopupMaxFen < 1 || l.TopupMaxFen > maxTopupFen {
		ck.bad("limits.topup_max_fen", "%d is not between 1 and %d", l.TopupMaxFen, maxTopupFen)
	}
	// The small wallet lives on a PBOC e-purse whose balance is 4 bytes;
	// anything above 1000.00 is certainly a typo in fen.
	if l.WalletLimitFen < 1 || l.WalletLimitFen > 100000 {
		ck.bad("limits.wallet_limit_fen", "%d is not between 1 and 100000", l.WalletLimitFen)
	}
	if l.AdviceMaxFen < 1 || l.AdviceMaxFen > maxAdviceFen {
		ck.bad("limits.advice_max_fen", "%d is not between 1 and %d", l.AdviceMaxFen, maxAdviceFen)
	}
	s := c.StandIn
	if s.PerTxnFen < 0 {
		ck.bad("standin.per_txn_fen", "%d must not be negative", s.PerTxnFen)
	}
	if s.PerAccountFen < 0 {
		ck.bad("standin.per_account_fen", "%d must not be negative", s.PerAccountFen)
	}
	if s.PerTxnFen > s.PerAccountFen {
		ck.bad("standin.per_txn_fen", "%d exceeds standin.per_account_fen %d", s.PerTxnFen, s.PerAccountFen)
	}
}

// httpURL checks an http(s) upstream URL; section is where its insecure
// flag lives.
func (ck *checker) httpURL(key, section, raw string, insecure bool) bool {
	if raw == "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ck.bad(key, "%q is not an http:// or https:// URL with a host", raw)
		return false
	}
	if u.User != nil {
		ck.bad(key, "must not carry credentials (a bearer token goes in the key file: upstream.centre_token)")
		return false
	}
	if u.Scheme == "http" {
		ck.plainLink(key, section, u, insecure)
	}
	return true
}

func (c *Config) validateCentre(ck *checker) {
	ce := c.Centre
	if ck.httpURL("centre.url", "centre", ce.URL, ce.Insecure) {
		if strings.HasPrefix(ce.URL, "http:") && (ce.TLS.CAFile != "" || ce.TLS.CertFile != "") {
			ck.warn("centre.tls is set but centre.url is plain http; TLS settings are unused")
		}
	} else if c.Mode == ModeConnected && ce.URL == "" {
		ck.bad("centre.url", "is required when mode is connected")
	}
	ck.duration("centre.timeout", ce.Timeout, time.Millisecond, 30*time.Second)
	ck.intRange("centre.breaker_failures", ce.BreakerFailures, 1, 1000)
	ck.duration("centre.breaker_open", ce.BreakerOpen, 100*time.Millisecond, 10*time.Minute)
	ck.tlsFiles("centre.tls", ce.TLS)
}

func (c *Config) validatePayments(ck *checker) {
	p := c.Payments
	ck.httpURL("payments.url", "payments", p.URL, p.Insecure)
	// The POS gives up after 60 s; the gateway must decide before that.
	ck.duration("payments.poll_limit", p.PollLimit, time.Second, maxPollLimit-time.Second)
	ck.duration("payments.poll_interval", p.PollInterval, 10*time.Millisecond, max(p.PollLimit, 10*time.Millisecond))
	ck.intRange("payments.max_pending", p.MaxPending, 1, 1_000_000)
	ck.intRange("payments.max_pending_per_terminal", p.MaxPendingPerTerminal, 1, 64)
}

func (c *Config) validateLog(ck *checker) {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		ck.bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		ck.bad("log.format", "%q is not text or json", c.Log.Format)
	}
}

func (c *Config) validateCardIO(ck *checker) {
	seen := map[string]int{}
	for i, r := range c.CardIO.Readers {
		key := fmt.Sprintf("cardio.readers[%d]", i)
		if strings.TrimSpace(r.Match) == "" {
			ck.bad(key+".match", "is required (a part of the PC/SC reader name)")
		} else if j, dup := seen[r.Match]; dup {
			ck.bad(key+".match", "%q is also cardio.readers[%d].match", r.Match, j)
		} else {
			seen[r.Match] = i
		}
		if !ans(r.Terminal, 8) {
			ck.bad(key+".terminal", "%q must be exactly 8 printable ASCII characters", r.Terminal)
		} else if _, ok := c.Terminal(r.Terminal); ok && c.CardIO.Enabled {
			ck.warn("%s.terminal %q is also a network terminal; their records will be mixed", key, r.Terminal)
		}
		switch r.Role {
		case RoleDesk, RoleSettlement:
		default:
			ck.bad(key+".role", "%q is not desk or settlement", r.Role)
		}
	}
	if c.CardIO.Enabled && len(c.CardIO.Readers) == 0 {
		ck.bad("cardio.readers", "at least one reader is required when cardio.enabled is true")
	}
}

func (n NATS) validate(ck *checker) {
	if n.URL != "" {
		for _, raw := range strings.Split(n.URL, ",") {
			u, err := url.Parse(strings.TrimSpace(raw))
			if err != nil || u.Host == "" {
				// The URL is not echoed: it may carry credentials.
				ck.bad("forward.nats.url", "is not a list of NATS URLs such as nats://127.0.0.1:4222")
				continue
			}
			if u.User != nil {
				ck.bad("forward.nats.url", "must not carry credentials (user, password and token go in the key file: upstream.nats_*)")
				continue
			}
			switch u.Scheme {
			case "nats", "ws":
				if !n.TLS.Configured() {
					ck.plainLink("forward.nats.url", "forward.nats", u, n.Insecure)
				}
			case "tls", "wss":
			default:
				ck.bad("forward.nats.url", "%s://%s: scheme must be nats, tls, ws or wss", u.Scheme, u.Host)
			}
		}
	}
	ck.tlsFiles("forward.nats.tls", n.TLS)
	ck.privateFile("forward.nats.nkey_file", n.NKeyFile)
	if !natsName(n.Stream) {
		ck.bad("forward.nats.stream", "%q is not a stream name (letters, digits, - and _)", n.Stream)
	}
	if !natsSubject(n.Subject) {
		ck.bad("forward.nats.subject", "%q is not a subject (dot-separated tokens, no wildcards or spaces)", n.Subject)
	}
	if n.ReplayBucket != "" && !natsName(n.ReplayBucket) {
		ck.bad("forward.nats.replay_bucket", "%q is not a bucket name (letters, digits, - and _)", n.ReplayBucket)
	}
}

// natsName is the intersection of JetStream stream and KV bucket name rules.
func natsName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

func natsSubject(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" || tok == "*" || tok == ">" ||
			strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f || r >= utf8.RuneSelf }) {
			return false
		}
	}
	return true
}

func (r Retention) validate(ck *checker) {
	const century = 100 * 365 * 24 * time.Hour
	ck.duration("retention.journal", r.Journal, 0, century)
	ck.duration("retention.outbox", r.Outbox, 0, century)
	ck.duration("retention.interval", r.Interval, time.Second, 7*24*time.Hour)
	ck.duration("retention.idempotency", r.Idempotency, 0, century)
	if r.Idempotency > 0 && r.Idempotency < 24*time.Hour {
		ck.bad("retention.idempotency", "%v is less than a day: a terminal's retransmissions, reversals and refunds need their originals", r.Idempotency)
	}
	if r.Idempotency > 0 && r.Journal > 0 && r.Idempotency > r.Journal {
		ck.bad("retention.idempotency", "%v is longer than retention.journal (%v): the records are found through the journal", r.Idempotency, r.Journal)
	}
	if r.Journal > 0 || r.Outbox > 0 {
		if r.ArchiveDir == "" {
			ck.bad("retention.archive_dir", "is required when retention.journal or retention.outbox is set: records are archived there before they are pruned")
		} else {
			ck.filePath("retention.archive_dir", r.ArchiveDir)
		}
	}
}
