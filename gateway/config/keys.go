package config

import (
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Key sizes in bytes.
const (
	TMKSize            = 16 // terminal master key, 3DES double length
	WalletKeySize      = 16 // small-wallet master load key, 3DES
	StorageKeySize     = 32 // seals sessions in the store
	MinServiceTokenLen = 32
	maxServiceTokenLen = 512
)

// Keys is the content of the key file. It never prints its content: see
// String, GoString, Format and LogValue.
type Keys struct {
	Terminals           map[string]Secret // terminal id → TMK
	WalletMasterLoadKey Secret            // serves the key versions (DF08) not in WalletMasterLoadKeys
	StorageKey          Secret
	ServiceTokens       []Secret // bearer tokens accepted by the service API
	Upstream            UpstreamKeys
	Channels            ChannelKeys // the payment channels' merchant credentials
	// AdminTokens are the bearer tokens the admin listener accepts for
	// what returns store data or internals (journal, backup, pprof). They
	// are separate from ServiceTokens: a token may not be in both lists.
	AdminTokens []Secret
	// WalletMasterLoadKeys are the small wallet's master load keys by the
	// key version (1 to 255) a card reports in DF08, for rotating the load
	// key. WalletMasterLoadKey or this, or both, must be set.
	WalletMasterLoadKeys map[byte]Secret
}

// TMK returns the terminal master key of a terminal.
func (k *Keys) TMK(id string) (Secret, bool) {
	t, ok := k.Terminals[id]
	return t, ok
}

// WalletKey returns the small wallet's master load key for a card's key
// version (DF08): the version's own key in wallet_master_load_keys, else
// wallet_master_load_key.
func (k *Keys) WalletKey(version byte) (Secret, bool) {
	if w, ok := k.WalletMasterLoadKeys[version]; ok {
		return w, true
	}
	return k.WalletMasterLoadKey, len(k.WalletMasterLoadKey) > 0
}

// ValidToken reports whether tok is one of the service tokens. It compares
// every token in constant time so the answer's timing says nothing about
// how close a guess was.
func (k *Keys) ValidToken(tok string) bool { return anyToken(k.ServiceTokens, tok) }

// ValidAdminToken reports whether tok is one of the admin tokens, in
// constant time like ValidToken.
func (k *Keys) ValidAdminToken(tok string) bool { return anyToken(k.AdminTokens, tok) }

func anyToken(list []Secret, tok string) bool {
	ok := 0
	for _, t := range list {
		ok |= subtle.ConstantTimeCompare(t, []byte(tok))
	}
	return ok == 1
}

// LoadKeys reads and checks the key file. It refuses a file that group or
// others may read or write, and reports malformed entries by name without
// their values.
func LoadKeys(path string) (*Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &KeyError{Problem: fmt.Sprintf("%s: %v", path, unwrapPathError(err)), Err: ErrKeyFile}
	}
	defer f.Close()
	// Stat the open file, not the path, so the mode checked is the mode of
	// the bytes read.
	st, err := f.Stat()
	if err != nil {
		return nil, &KeyError{Problem: fmt.Sprintf("%s: %v", path, unwrapPathError(err)), Err: ErrKeyFile}
	}
	if !st.Mode().IsRegular() {
		return nil, &KeyError{Problem: path + " is not a regular file", Err: ErrKeyFile}
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, &KeyError{
			Problem: fmt.Sprintf("%s has mode %04o; it must not be readable by group or others (chmod 600)", path, perm),
			Err:     ErrKeyFileMode,
		}
	}
	data, err := readAllBounded(f)
	if err != nil {
		return nil, &KeyError{Problem: fmt.Sprintf("%s: %v", path, err), Err: ErrKeyFile}
	}
	return parseKeys(data)
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func parseKeys(data []byte) (*Keys, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml errors can quote the text they choke on, which may be a key:
		// keep only the line number.
		where := ""
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			where = " (near line " + m[1] + ")"
		}
		return nil, &KeyError{Problem: "not valid YAML" + where, Err: ErrKeyFile}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &KeyError{Problem: "want a mapping with terminals, wallet_master_load_key, storage_key, service_tokens and admin_tokens", Err: ErrKeyFile}
	}
	k := &Keys{Terminals: map[string]Secret{}}
	var p keyParser
	root := doc.Content[0]
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		name, val := root.Content[i], root.Content[i+1]
		key := name.Value
		if name.Kind != yaml.ScalarNode || !safeName.MatchString(key) {
			p.bad(fmt.Sprintf("line %d", name.Line), "unknown key")
			continue
		}
		if seen[key] {
			p.bad(key, "appears twice")
			continue
		}
		seen[key] = true
		switch key {
		case "terminals":
			p.terminals(val, k)
		case "wallet_master_load_key":
			k.WalletMasterLoadKey = p.hexKey(key, val, WalletKeySize)
		case "wallet_master_load_keys":
			k.WalletMasterLoadKeys = p.versionedKeys(key, val, WalletKeySize)
		case "storage_key":
			k.StorageKey = p.hexKey(key, val, StorageKeySize)
		case "service_tokens":
			k.ServiceTokens = p.tokens(key, val)
		case "admin_tokens":
			k.AdminTokens = p.tokens(key, val)
		case "upstream":
			p.upstream(val, &k.Upstream)
		case "channels":
			p.channels(val, &k.Channels)
		default:
			p.bad(key, "unknown key")
		}
	}
	if !seen["wallet_master_load_key"] && !seen["wallet_master_load_keys"] {
		p.bad("wallet_master_load_key", "is required (or wallet_master_load_keys by key version)")
	}
	if !seen["storage_key"] {
		p.bad("storage_key", "is required")
	}
	p.separate(k.AdminTokens, k.ServiceTokens)
	if err := p.err(); err != nil {
		return nil, err
	}
	return k, nil
}

// safeName matches key names that may be echoed in an error: a misplaced
// hex key is never a lower-case identifier of this shape.
var safeName = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)

type keyParser struct{ errs []error }

func (p *keyParser) bad(entry, format string, args ...any) {
	p.errs = append(p.errs, &KeyError{Entry: entry, Problem: fmt.Sprintf(format, args...), Err: ErrKeyFile})
}

func (p *keyParser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	if len(p.errs) == 1 {
		return p.errs[0]
	}
	return errors.Join(p.errs...)
}

func (p *keyParser) terminals(n *yaml.Node, k *Keys) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.bad("terminals", "want a mapping of terminal id to TMK")
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		idn, val := n.Content[i], n.Content[i+1]
		if idn.Kind != yaml.ScalarNode || !ans(idn.Value, 8) {
			p.bad(fmt.Sprintf("terminals (line %d)", idn.Line), "terminal id must be exactly 8 printable ASCII characters")
			continue
		}
		entry := "terminals." + idn.Value
		if _, dup := k.Terminals[idn.Value]; dup {
			p.bad(entry, "appears twice")
			continue
		}
		if tmk := p.hexKey(entry, val, TMKSize); tmk != nil {
			k.Terminals[idn.Value] = tmk
		}
	}
}

// versionedKeys reads a mapping of key version (1 to 255, as a card
// reports it in DF08) to key.
func (p *keyParser) versionedKeys(name string, n *yaml.Node, size int) map[byte]Secret {
	if n.Kind != yaml.MappingNode {
		p.bad(name, "want a mapping of key version (1 to 255) to key")
		return nil
	}
	out := map[byte]Secret{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		vn, val := n.Content[i], n.Content[i+1]
		v, err := strconv.ParseUint(vn.Value, 10, 8)
		if vn.Kind != yaml.ScalarNode || err != nil || v == 0 {
			p.bad(fmt.Sprintf("%s (line %d)", name, vn.Line), "key version must be 1 to 255")
			continue
		}
		entry := fmt.Sprintf("%s.%d", name, v)
		if _, dup := out[byte(v)]; dup {
			p.bad(entry, "appears twice")
			continue
		}
		if k := p.hexKey(entry, val, size); k != nil {
			out[byte(v)] = k
		}
	}
	return out
}

func (p *keyParser) hexKey(entry string, n *yaml.Node, size int) Secret {
	if n.Kind != yaml.ScalarNode {
		p.bad(entry, "want %d hex characters", 2*size)
		return nil
	}
	s := n.Value
	if len(s) != 2*size {
		p.bad(entry, "want %d hex characters", 2*size)
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		p.bad(entry, "want %d hex characters", 2*size)
		return nil
	}
	if Secret(b).isZero() {
		p.bad(entry, "must not be all zeros")
		return nil
	}
	return b
}

// tokens reads a list of bearer tokens (service_tokens, admin_tokens).
func (p *keyParser) tokens(name string, n *yaml.Node) []Secret {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.bad(name, "want a list of tokens")
		return nil
	}
	var out []Secret
	for i, t := range n.Content {
		entry := fmt.Sprintf("%s[%d]", name, i)
		switch {
		case t.Kind != yaml.ScalarNode:
			p.bad(entry, "want a string")
		case len(t.Value) < MinServiceTokenLen || len(t.Value) > maxServiceTokenLen:
			p.bad(entry, "want %d to %d characters", MinServiceTokenLen, maxServiceTokenLen)
		case !tokenChars(t.Value):
			p.bad(entry, "may hold only letters, digits and - . _ ~ + / =")
		default:
			tok := Secret(t.Value)
			for j, o := range out {
				if o.Equal(tok) {
					p.bad(entry, "repeats %s[%d]", name, j)
				}
			}
			out = append(out, tok)
		}
	}
	return out
}

// separate refuses an admin token that is also a service token: the
// self-service front end holds the service tokens and must not be able to
// read the store through the admin listener.
func (p *keyParser) separate(admin, service []Secret) {
	for i, a := range admin {
		for j, s := range service {
			if a.Equal(s) {
				p.bad(fmt.Sprintf("admin_tokens[%d]", i), "repeats service_tokens[%d]: use a different token", j)
			}
		}
	}
}

// tokenChars is RFC 6750's b64token alphabet, so a token can be sent in
// an Authorization header unchanged.
func tokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~+/=", c) >= 0) {
			return false
		}
	}
	return true
}

// Marshal encodes the keys in the key file format, terminals sorted, every
// value quoted. LoadKeys of the result gives the same Keys.
func (k *Keys) Marshal() []byte {
	var b strings.Builder
	b.WriteString("# ecardgw key file. Keep it mode 0600 and out of version control.\n")
	b.WriteString("terminals:\n")
	ids := make([]string, 0, len(k.Terminals))
	for id := range k.Terminals {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "  %s: %q\n", strconv.Quote(id), hex.EncodeToString(k.Terminals[id]))
	}
	if len(k.WalletMasterLoadKey) > 0 {
		fmt.Fprintf(&b, "wallet_master_load_key: %q\n", hex.EncodeToString(k.WalletMasterLoadKey))
	}
	if len(k.WalletMasterLoadKeys) > 0 {
		b.WriteString("wallet_master_load_keys:\n")
		vers := make([]int, 0, len(k.WalletMasterLoadKeys))
		for v := range k.WalletMasterLoadKeys {
			vers = append(vers, int(v))
		}
		sort.Ints(vers)
		for _, v := range vers {
			fmt.Fprintf(&b, "  %d: %q\n", v, hex.EncodeToString(k.WalletMasterLoadKeys[byte(v)]))
		}
	}
	fmt.Fprintf(&b, "storage_key: %q\n", hex.EncodeToString(k.StorageKey))
	b.WriteString("service_tokens:\n")
	for _, t := range k.ServiceTokens {
		fmt.Fprintf(&b, "  - %q\n", string(t))
	}
	k.Upstream.marshal(&b)
	k.Channels.marshal(&b)
	b.WriteString("admin_tokens:\n")
	for _, t := range k.AdminTokens {
		fmt.Fprintf(&b, "  - %q\n", string(t))
	}
	return []byte(b.String())
}

// WriteKeys writes the key file with mode 0600, atomically: a crash leaves
// the old file or the new one, never half a key file.
func WriteKeys(path string, k *Keys) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*.tmp") // CreateTemp uses 0600
	if err != nil {
		return &KeyError{Problem: fmt.Sprintf("%s: %v", path, unwrapPathError(err)), Err: ErrKeyFile}
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	_, werr := tmp.Write(k.Marshal())
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		return &KeyError{Problem: fmt.Sprintf("%s: %v", path, unwrapPathError(werr)), Err: ErrKeyFile}
	}
	return nil
}
