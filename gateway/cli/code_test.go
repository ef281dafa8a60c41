package cli

import (
	"bytes"
	"encoding/hex"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"

	"github.com/stretchr/testify/require"
)

// runCode runs `code args...` and returns stdout+stderr.
func runCode(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newCodeCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func pinCodeClock(t *testing.T, now time.Time) {
	old := codeNow
	codeNow = func() time.Time { return now }
	t.Cleanup(func() { codeNow = old })
}

var codeLine = regexp.MustCompile(`(?m)^CC1:[0-9A-Z $%*+\-./:]+$`)

func TestCodeCommandsEndToEnd(t *testing.T) {
	now := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	pinCodeClock(t, now)
	for _, alg := range []string{"ed25519", "sm2"} {
		t.Run(alg, func(t *testing.T) {
			dir := t.TempDir()
			keyFile := filepath.Join(dir, "issuer.key")
			devFile := filepath.Join(dir, "phone.dev")
			pngFile := filepath.Join(dir, "code.png")

			out, err := runCode(t, "keygen", "--alg", alg, "--key-id", "5", "--out", keyFile)
			require.NoError(t, err, out)
			m := regexp.MustCompile(`public key: ([0-9a-f]+)`).FindStringSubmatch(out)
			require.NotNil(t, m, out)
			pub, err := hex.DecodeString(m[1])
			require.NoError(t, err)
			require.Contains(t, out, "key_id: 5, algorithm: "+alg)
			st, err := os.Stat(keyFile)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

			out, err = runCode(t, "cert", "--issuer-key", keyFile, "--key-id", "5", "--account", "20230001", "--days", "30", "--out", devFile)
			require.NoError(t, err, out)

			out, err = runCode(t, "show", "--cert", devFile, "--count", "3", "--interval", "0", "--png", pngFile)
			require.NoError(t, err, out)
			codes := codeLine.FindAllString(out, -1)
			require.Len(t, codes, 3, out)
			require.Contains(t, out, "▀", "a terminal QR code is drawn")

			// every code verifies against the printed public key, with
			// increasing counters
			parsedAlg, err := campuscode.ParseAlgorithm(alg)
			require.NoError(t, err)
			v, err := campuscode.NewVerifier(campuscode.Config{
				Algorithms: []campuscode.Algorithm{parsedAlg}, CacheSize: 4,
				Issuers: []campuscode.IssuerKey{{KeyID: 5, Alg: parsedAlg, PublicKey: pub}},
			})
			require.NoError(t, err)
			for i, c := range codes {
				res, err := v.Verify([]byte(c), now)
				require.NoError(t, err)
				require.Equal(t, uint16(i+1), res.Counter)
				require.Equal(t, uint64(20230001), res.Account)
			}

			// the counter was saved: the next run continues from 3
			d, err := issuer.LoadDevice(devFile)
			require.NoError(t, err)
			require.Equal(t, uint16(3), d.Counter)
			out, err = runCode(t, "show", "--cert", devFile, "--no-qr")
			require.NoError(t, err, out)
			require.NotContains(t, out, "▀")
			res, err := v.Verify([]byte(codeLine.FindString(out)), now)
			require.NoError(t, err)
			require.Equal(t, uint16(4), res.Counter)

			// the PNG decodes as an image
			f, err := os.Open(pngFile)
			require.NoError(t, err)
			defer f.Close()
			img, err := png.Decode(f)
			require.NoError(t, err)
			require.Greater(t, img.Bounds().Dx(), 100)
		})
	}
}

func TestCodeCommandsRefuse(t *testing.T) {
	pinCodeClock(t, time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "issuer.key")
	devFile := filepath.Join(dir, "phone.dev")
	_, err := runCode(t, "keygen", "--alg", "sm2", "--key-id", "2", "--out", keyFile)
	require.NoError(t, err)
	before, err := os.ReadFile(keyFile)
	require.NoError(t, err)

	cases := map[string][]string{
		"bad alg":          {"keygen", "--alg", "rsa", "--key-id", "1", "--out", filepath.Join(dir, "x")},
		"keygen no out":    {"keygen", "--key-id", "1"},
		"overwrite key":    {"keygen", "--key-id", "1", "--out", keyFile},
		"key id mismatch":  {"cert", "--issuer-key", keyFile, "--key-id", "3", "--account", "1", "--out", devFile},
		"zero days":        {"cert", "--issuer-key", keyFile, "--account", "1", "--days", "0", "--out", devFile},
		"bad not-before":   {"cert", "--issuer-key", keyFile, "--account", "1", "--not-before", "yesterday", "--out", devFile},
		"missing key file": {"cert", "--issuer-key", filepath.Join(dir, "none"), "--account", "1", "--out", devFile},
		"show a key file":  {"show", "--cert", keyFile},
		"show zero count":  {"show", "--cert", keyFile, "--count", "0"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := runCode(t, args...)
			require.Error(t, err, out)
		})
	}
	after, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	require.Equal(t, before, after, "the issuer key was not overwritten")
	_, err = os.Stat(devFile)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestCodeShowWarnsOnExpiredCertificate(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "issuer.key")
	devFile := filepath.Join(dir, "phone.dev")
	pinCodeClock(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	_, err := runCode(t, "keygen", "--key-id", "1", "--out", keyFile)
	require.NoError(t, err)
	_, err = runCode(t, "cert", "--issuer-key", keyFile, "--account", "7", "--days", "1", "--out", devFile)
	require.NoError(t, err)
	pinCodeClock(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	out, err := runCode(t, "show", "--cert", devFile, "--no-qr")
	require.NoError(t, err)
	require.True(t, strings.Contains(out, "certificate expired"), out)
}
