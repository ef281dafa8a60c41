package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func loadYAML(t *testing.T, body string) (*Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return Load(path)
}

// A plain (unencrypted) upstream on another host is refused at load time
// unless the section says insecure: true, which is then warned about. The
// check parses the URL only: nothing is dialled and no name is resolved
// (10.1.2.3 is not reachable from a test machine, and centre.example does
// not exist).
func TestPlainUpstreamNeedsInsecure(t *testing.T) {
	cases := []struct {
		name, section, key string
	}{
		{"centre ip", "mode: connected\ncentre: {url: \"http://10.1.2.3:8080\"%s}\n", "centre.url"},
		{"centre name", "mode: connected\ncentre: {url: \"http://centre.example/api\"%s}\n", "centre.url"},
		{"payments", "payments: {url: \"http://10.1.2.3:8080/pay\"%s}\n", "payments.url"},
		{"nats", "forward: {nats: {url: \"nats://10.1.2.3:4222\"%s}}\n", "forward.nats.url"},
		{"nats list", "forward: {nats: {url: \"nats://127.0.0.1:4222,nats://10.1.2.4:4222\"%s}}\n", "forward.nats.url"},
		{"nats ws", "forward: {nats: {url: \"ws://10.1.2.3:8080\"%s}}\n", "forward.nats.url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadYAML(t, strings.Replace(tc.section, "%s", "", 1))
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorContains(t, err, "config: "+tc.key+": ")
			require.ErrorContains(t, err, "insecure: true")

			c, err := loadYAML(t, strings.Replace(tc.section, "%s", ", insecure: true", 1))
			require.NoError(t, err)
			w := strings.Join(c.Warnings, "\n")
			require.Contains(t, w, tc.key)
			require.Contains(t, w, "not encrypted")
		})
	}
}

// Loopback upstreams (tests, demos) and encrypted ones need nothing and are
// not warned about.
func TestLoopbackOrTLSUpstreamNeedsNothing(t *testing.T) {
	for _, body := range []string{
		"mode: connected\ncentre: {url: \"http://127.0.0.1:8080\"}\n",
		"mode: connected\ncentre: {url: \"http://127.7.0.1:8080\"}\n",
		"mode: connected\ncentre: {url: \"http://localhost:8080\"}\n",
		"mode: connected\ncentre: {url: \"http://[::1]:8080\"}\n",
		"mode: connected\ncentre: {url: \"https://10.1.2.3:8443\"}\n",
		"payments: {url: \"http://localhost/pay\"}\n",
		"payments: {url: \"https://pay.example/pay\"}\n",
		"forward: {nats: {url: \"nats://127.0.0.1:4222,nats://[::1]:4223\"}}\n",
		"forward: {nats: {url: \"tls://10.1.2.3:4222\"}}\n",
		"forward: {nats: {url: \"wss://10.1.2.3:443\"}}\n",
	} {
		c, err := loadYAML(t, body)
		require.NoError(t, err, body)
		require.NotContains(t, strings.Join(c.Warnings, "\n"), "not encrypted", body)
	}
}

// A nats:// URL with forward.nats.tls set is encrypted: the client insists
// on TLS with the server.
func TestNATSWithTLSSectionIsEncrypted(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte("x"), 0o644))
	c, err := loadYAML(t, "forward: {nats: {url: \"nats://10.1.2.3:4222\", tls: {ca_file: "+ca+"}}}\n")
	require.NoError(t, err)
	require.Equal(t, ca, c.Forward.NATS.TLS.CAFile)
	require.True(t, c.Forward.NATS.TLS.Configured())
	require.NotContains(t, strings.Join(c.Warnings, "\n"), "not encrypted")
}

// Credentials never go into a URL: the configuration file is not secret.
func TestUpstreamURLCredentialsRefused(t *testing.T) {
	for _, tc := range []struct{ body, key string }{
		{"forward: {nats: {url: \"nats://user:pass@127.0.0.1:4222\"}}\n", "forward.nats.url"},
		{"forward: {nats: {url: \"nats://s3cr3t@127.0.0.1:4222\"}}\n", "forward.nats.url"},
		{"payments: {url: \"https://u:p@pay.example/\"}\n", "payments.url"},
	} {
		_, err := loadYAML(t, tc.body)
		require.ErrorContains(t, err, "config: "+tc.key+": must not carry credentials")
		require.NotContains(t, err.Error(), "user:pass@")
		require.NotContains(t, err.Error(), "s3cr3t")
	}
}

// Files that hold a private key (a client certificate's key, a NATS nkey
// seed) may be named in the configuration only if group and others cannot
// read them.
func TestUpstreamPrivateFilesMustBeOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "gw.pem")
	key := filepath.Join(dir, "gw.key")
	seed := filepath.Join(dir, "gw.nk")
	require.NoError(t, os.WriteFile(cert, []byte("cert"), 0o644))
	for _, f := range []string{key, seed} {
		require.NoError(t, os.WriteFile(f, []byte("secret"), 0o600))
		require.NoError(t, os.Chmod(f, 0o640))
	}
	body := "mode: connected\ncentre: {url: \"https://127.0.0.1:1\", tls: {cert_file: " + cert + ", key_file: " + key + "}}\n" +
		"forward: {nats: {url: \"nats://127.0.0.1:4222\", nkey_file: " + seed + ", tls: {cert_file: " + cert + ", key_file: " + key + "}}}\n"
	_, err := loadYAML(t, body)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "config: centre.tls.key_file: ")
	require.ErrorContains(t, err, "config: forward.nats.tls.key_file: ")
	require.ErrorContains(t, err, "config: forward.nats.nkey_file: ")
	require.ErrorContains(t, err, "mode 0640")
	for _, f := range []string{key, seed} {
		require.NoError(t, os.Chmod(f, 0o600))
	}
	c, err := loadYAML(t, body)
	require.NoError(t, err)
	require.Equal(t, seed, c.Forward.NATS.NKeyFile)
	require.Equal(t, TLS{CertFile: cert, KeyFile: key}, c.Forward.NATS.TLS)
}

func TestUpstreamKeys(t *testing.T) {
	k, err := LoadKeys(writeKeyFile(t, goodKeyFile()+`upstream:
  centre_token: centre-token-0123456789abcdef
  nats_user: gw-north
  nats_password: "p4ss w0rd!"
`, 0o600))
	require.NoError(t, err)
	require.Equal(t, "centre-token-0123456789abcdef", string(k.Upstream.CentreToken))
	require.Equal(t, "gw-north", string(k.Upstream.NATSUser))
	require.Equal(t, "p4ss w0rd!", string(k.Upstream.NATSPassword))
	require.Empty(t, k.Upstream.NATSToken)

	k2, err := LoadKeys(writeKeyFile(t, string(k.Marshal()), 0o600))
	require.NoError(t, err)
	require.Equal(t, k.Upstream, k2.Upstream, "Marshal keeps the upstream secrets")

	for _, tc := range []struct{ body, want string }{
		{"upstream:\n  centre_token: \"has space\"\n", "keys: upstream.centre_token: may hold only"},
		{"upstream:\n  nats_user: gw\n", "keys: upstream.nats_password: is required with nats_user"},
		{"upstream:\n  nats_password: pw\n", "keys: upstream.nats_user: is required with nats_password"},
		{"upstream:\n  nats_token: tok\n  nats_user: u\n  nats_password: p\n", "keys: upstream.nats_token: cannot be used with nats_user"},
		{"upstream:\n  nats_tokn: x\n", "keys: upstream.nats_tokn: unknown key"},
		{"upstream: [x]\n", "keys: upstream: want a mapping"},
	} {
		_, err := LoadKeys(writeKeyFile(t, goodKeyFile()+tc.body, 0o600))
		require.ErrorIs(t, err, ErrKeyFile, tc.body)
		require.ErrorContains(t, err, tc.want)
		require.NotContains(t, err.Error(), "has space")
	}
}

func TestUpstreamKeysNeverPrinted(t *testing.T) {
	k, err := LoadKeys(writeKeyFile(t, goodKeyFile()+"upstream:\n  centre_token: centre-token-0123456789abcdef\n  nats_token: nats-token-0123456789\n", 0o600))
	require.NoError(t, err)
	for _, s := range []string{k.String(), k.GoString()} {
		require.NotContains(t, s, "centre-token")
		require.NotContains(t, s, "nats-token")
	}
}
