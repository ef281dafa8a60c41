package campuscode_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecardgw/gateway/campuscode"
	"ecardgw/gateway/campuscode/issuer"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/campuscode/vectors.txt (and the issuer keys if missing)")

const vectorDir = "../../testdata/campuscode"

// vector is one record of vectors.txt.
type vector struct {
	name   string
	now    int64
	expect string // "<field 39> <reason>", e.g. "00 ok", "Q3 stale"
	code   string
}

// Key ids of the vector key ring (see testdata/campuscode/README.md).
const (
	vecEdID, vecSMID               = 1, 2
	vecEdRevokedID, vecSMRevokedID = 9, 10
	vecEdOldID, vecSMOldID         = 11, 12
	vecUnknownID                   = 99
	vecNow                         = 1767225600 // 2026-01-01T00:00:00Z
)

type vectorKeys struct{ ed, sm *issuer.Key }

func loadVectorKeys(t testing.TB) vectorKeys {
	t.Helper()
	var ks vectorKeys
	for _, k := range []struct {
		file string
		alg  campuscode.Algorithm
		id   uint32
		dst  **issuer.Key
	}{
		{"issuer-ed25519.key", campuscode.Ed25519, vecEdID, &ks.ed},
		{"issuer-sm2.key", campuscode.SM2, vecSMID, &ks.sm},
	} {
		path := filepath.Join(vectorDir, k.file)
		key, err := issuer.LoadKey(path)
		if *update && errors.Is(err, os.ErrNotExist) {
			key, err = issuer.GenerateKey(k.alg, k.id, nil)
			require.NoError(t, err)
			require.NoError(t, key.Save(path))
		}
		require.NoError(t, err)
		require.Equal(t, k.alg, key.Alg())
		*k.dst = key
	}
	return ks
}

// vectorConfig is the verifier configuration every vector is checked with.
func vectorConfig(ks vectorKeys) campuscode.Config {
	now := time.Unix(vecNow, 0).UTC()
	ring := []campuscode.IssuerKey{ks.ed.IssuerKey(), ks.sm.IssuerKey()}
	for _, k := range []*issuer.Key{ks.ed, ks.sm} {
		revoked, old := k.IssuerKey(), k.IssuerKey()
		revoked.Revoked = true
		old.NotAfter = now.Add(-24 * time.Hour)
		if k.Alg() == campuscode.Ed25519 {
			revoked.KeyID, old.KeyID = vecEdRevokedID, vecEdOldID
		} else {
			revoked.KeyID, old.KeyID = vecSMRevokedID, vecSMOldID
		}
		ring = append(ring, revoked, old)
	}
	return campuscode.Config{Validity: 60 * time.Second, Skew: 30 * time.Second, Algorithms: bothAlgs, Issuers: ring, CacheSize: 64}
}

func readVectors(t testing.TB) []vector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(vectorDir, "vectors.txt"))
	require.NoError(t, err)
	vs, err := parseVectors(raw)
	require.NoError(t, err)
	require.NotEmpty(t, vs)
	return vs
}

// parseVectors reads blank-line separated records of "name: value" lines;
// the code is a Go quoted string because Base45 text may end in a space.
func parseVectors(raw []byte) ([]vector, error) {
	var out []vector
	var cur vector
	flush := func() error {
		if cur == (vector{}) {
			return nil
		}
		if cur.name == "" || cur.now == 0 || cur.expect == "" || cur.code == "" {
			return fmt.Errorf("incomplete vector %q", cur.name)
		}
		out = append(out, cur)
		cur = vector{}
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		name, val, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("bad line %q", line)
		}
		var err error
		switch name {
		case "name":
			cur.name = val
		case "now":
			cur.now, err = strconv.ParseInt(val, 10, 64)
		case "expect":
			cur.expect = val
		case "code":
			cur.code, err = strconv.Unquote(val)
		default:
			err = fmt.Errorf("unknown field %q", name)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, sc.Err()
}

func formatVectors(vs []vector) []byte {
	var b bytes.Buffer
	b.WriteString(`# Campus code test vectors: see README.md in this directory for the key
# ring and configuration they are checked with. Regenerate with
#   go test ./gateway/campuscode -run TestGenerateVectors -update
# name: <alg>/<case>; now: Unix seconds; expect: <field 39> <reason label>;
# code: the scanned text as a Go quoted string (Base45 may end in a space).
`)
	for _, v := range vs {
		fmt.Fprintf(&b, "\nname: %s\nnow: %d\nexpect: %s\ncode: %s\n", v.name, v.now, v.expect, strconv.Quote(v.code))
	}
	return b.Bytes()
}

// generateVectors builds one valid code and one per failure for each
// algorithm, at fixed times.
func generateVectors(t testing.TB, ks vectorKeys) []vector {
	t.Helper()
	now := time.Unix(vecNow, 0).UTC()
	day := 24 * time.Hour
	var out []vector
	for _, k := range []*issuer.Key{ks.ed, ks.sm} {
		alg := k.Alg()
		revokedID, oldID := uint32(vecEdRevokedID), uint32(vecEdOldID)
		if alg == campuscode.SM2 {
			revokedID, oldID = vecSMRevokedID, vecSMOldID
		}
		device := func(keyID uint32, nb, na time.Time) *issuer.Device {
			d, err := issuer.NewDevice(k, keyID, 20230001, nb, na, nil)
			require.NoError(t, err)
			return d
		}
		good := device(k.KeyID, now.Add(-30*day), now.Add(335*day))
		payload := func(d *issuer.Device, ga time.Time, ctr uint16) []byte {
			p, err := d.AppendPayload(nil, uint32(ga.Unix()), ctr)
			require.NoError(t, err)
			return p
		}
		text := func(p []byte) string { return string(campuscode.AppendText(nil, p)) }
		tampered := func(off int) *issuer.Device {
			d := *good
			d.Cert = bytes.Clone(good.Cert)
			d.Cert[off] ^= 0x01
			return &d
		}
		valid := payload(good, now.Add(-5*time.Second), 1)
		forgedUser := bytes.Clone(valid)
		forgedUser[len(forgedUser)-1] ^= 0x01
		validText := text(valid)
		l := alg.KeyLen()

		add := func(name, expect, code string) {
			out = append(out, vector{name: alg.String() + "/" + name, now: vecNow, expect: expect, code: code})
		}
		add("valid", "00 ok", validText)
		add("cert-expired", "Q3 cert_expired", text(payload(device(k.KeyID, now.Add(-60*day), now.Add(-day)), now, 2)))
		add("stale", "Q3 stale", text(payload(good, now.Add(-61*time.Second), 3)))
		add("future", "Q3 future", text(payload(good, now.Add(31*time.Second), 4)))
		add("forged-issuer-signature", "Q2 issuer_signature", text(payload(tampered(23+l), now, 5)))
		add("forged-user-signature", "Q2 user_signature", text(forgedUser))
		add("account-changed", "Q2 issuer_signature", text(payload(tampered(13), now, 6)))
		add("unknown-key", "Q5 unknown_key", text(payload(device(vecUnknownID, now.Add(-day), now.Add(day)), now, 7)))
		add("revoked-key", "Q5 revoked_key", text(payload(device(revokedID, now.Add(-day), now.Add(day)), now, 8)))
		add("key-expired", "Q5 key_expired", text(payload(device(oldID, now.Add(-day), now.Add(day)), now, 9)))
		add("truncated", "Q1 malformed", validText[:len(validText)-3])
		bad := []byte(validText)
		bad[len(bad)/2] = 'a' // lower case is not Base45
		add("bad-base45", "Q1 malformed", string(bad))
		add("wrong-length", "Q1 malformed", text(append(bytes.Clone(valid), 0)))
	}
	return out
}

func checkVector(t *testing.T, v *campuscode.Verifier, vec vector) {
	t.Helper()
	_, err := v.Verify([]byte(vec.code), time.Unix(vec.now, 0).UTC())
	require.Equal(t, vec.expect, campuscode.ResponseCode(err)+" "+campuscode.Reason(err), "vector %s: %v", vec.name, err)
}

func TestVectors(t *testing.T) {
	ks := loadVectorKeys(t)
	v, err := campuscode.NewVerifier(vectorConfig(ks))
	require.NoError(t, err)
	vs := readVectors(t)
	for _, vec := range vs {
		t.Run(vec.name, func(t *testing.T) { checkVector(t, v, vec) })
	}
	// Both algorithms are covered, each with every case.
	require.Len(t, vs, 26)
}

// TestGenerateVectors checks the generator against the verifier; with
// -update it also rewrites vectors.txt. The cases must match the file's
// either way, so a new case cannot be forgotten in the committed vectors.
func TestGenerateVectors(t *testing.T) {
	ks := loadVectorKeys(t)
	v, err := campuscode.NewVerifier(vectorConfig(ks))
	require.NoError(t, err)
	gen := generateVectors(t, ks)
	for _, vec := range gen {
		t.Run(vec.name, func(t *testing.T) { checkVector(t, v, vec) })
	}
	path := filepath.Join(vectorDir, "vectors.txt")
	if *update {
		require.NoError(t, os.WriteFile(path, formatVectors(gen), 0o644))
	}
	file := readVectors(t)
	require.Len(t, file, len(gen))
	for i := range gen {
		require.Equal(t, gen[i].name, file[i].name)
		require.Equal(t, gen[i].expect, file[i].expect)
	}
}
