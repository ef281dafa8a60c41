package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// UpstreamKeys are the credentials the gateway presents to its upstream
// links (key file section upstream; see upstream.go for the model).
type UpstreamKeys struct {
	// CentreToken is sent as "Authorization: Bearer" to centre.url and
	// payments.url.
	CentreToken Secret
	// NATSUser and NATSPassword, or NATSToken, authenticate to the NATS
	// servers of forward.nats.url (an nkey seed file is
	// forward.nats.nkey_file instead).
	NATSUser, NATSPassword, NATSToken Secret
}

const maxUpstreamSecretLen = 512

func (p *keyParser) upstream(n *yaml.Node, u *UpstreamKeys) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.bad("upstream", "want a mapping of centre_token, nats_user, nats_password, nats_token")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, val := n.Content[i], n.Content[i+1]
		if name.Kind != yaml.ScalarNode || !safeName.MatchString(name.Value) {
			p.bad(fmt.Sprintf("upstream (line %d)", name.Line), "unknown key")
			continue
		}
		entry := "upstream." + name.Value
		if seen[name.Value] {
			p.bad(entry, "appears twice")
			continue
		}
		seen[name.Value] = true
		switch name.Value {
		case "centre_token":
			// Sent in an HTTP header unchanged: RFC 6750's alphabet.
			u.CentreToken = p.upstreamSecret(entry, val, tokenChars, "letters, digits and - . _ ~ + / =")
		case "nats_user":
			u.NATSUser = p.upstreamSecret(entry, val, natsCredChars, "printable ASCII")
		case "nats_password":
			u.NATSPassword = p.upstreamSecret(entry, val, natsCredChars, "printable ASCII")
		case "nats_token":
			u.NATSToken = p.upstreamSecret(entry, val, natsCredChars, "printable ASCII")
		default:
			p.bad(entry, "unknown key")
		}
	}
	switch {
	case seen["nats_user"] && !seen["nats_password"]:
		p.bad("upstream.nats_password", "is required with nats_user")
	case seen["nats_password"] && !seen["nats_user"]:
		p.bad("upstream.nats_user", "is required with nats_password")
	}
	if seen["nats_token"] && (seen["nats_user"] || seen["nats_password"]) {
		p.bad("upstream.nats_token", "cannot be used with nats_user and nats_password")
	}
}

// upstreamSecret reads one secret string; problems are reported by entry,
// never by value.
func (p *keyParser) upstreamSecret(entry string, n *yaml.Node, ok func(string) bool, alphabet string) Secret {
	switch {
	case n.Kind != yaml.ScalarNode:
		p.bad(entry, "want a string")
	case n.Value == "" || len(n.Value) > maxUpstreamSecretLen:
		p.bad(entry, "want 1 to %d characters", maxUpstreamSecretLen)
	case !ok(n.Value):
		p.bad(entry, "may hold only %s", alphabet)
	default:
		return Secret(n.Value)
	}
	return nil
}

// natsCredChars: printable ASCII, space included (NATS passwords may have
// one); no control characters.
func natsCredChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// marshal appends the upstream section when any secret is set.
func (u UpstreamKeys) marshal(b *strings.Builder) {
	entries := []struct {
		name string
		v    Secret
	}{
		{"centre_token", u.CentreToken},
		{"nats_user", u.NATSUser},
		{"nats_password", u.NATSPassword},
		{"nats_token", u.NATSToken},
	}
	head := false
	for _, e := range entries {
		if len(e.v) == 0 {
			continue
		}
		if !head {
			b.WriteString("upstream:\n")
			head = true
		}
		fmt.Fprintf(b, "  %s: %q\n", e.name, string(e.v))
	}
}
