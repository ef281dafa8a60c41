package issuer

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ecardgw/gateway/campuscode"
)

const (
	kindIssuer = "issuer-key"
	kindDevice = "device"
)

// Save writes the issuer key file (format in the package doc), mode 0600.
func (k *Key) Save(path string) error {
	var b bytes.Buffer
	b.WriteString("# ecardgw campus code issuer key: PRIVATE, keep it off the gateway\n")
	fmt.Fprintf(&b, "kind: %s\nalg: %s\nkey-id: %d\nprivate: %x\npublic: %x\n",
		kindIssuer, k.alg, k.KeyID, k.private(), k.public())
	return writeFile(path, b.Bytes())
}

// LoadKey reads an issuer key file and checks that its public key matches
// the private one.
func LoadKey(path string) (*Key, error) {
	f, err := readFile(path, kindIssuer)
	if err != nil {
		return nil, err
	}
	s, err := f.signer()
	if err != nil {
		return nil, err
	}
	id, err := f.uint("key-id", 32)
	if err != nil {
		return nil, err
	}
	if pub, ok := f.vals["public"]; ok && pub != hex.EncodeToString(s.public()) {
		return nil, fmt.Errorf("%w: public key does not match private key", ErrKey)
	}
	return &Key{KeyID: uint32(id), signer: s}, nil
}

// Save writes the device file, mode 0600; the CLI calls it after every
// code so the counter never goes back.
func (d *Device) Save(path string) error {
	var b bytes.Buffer
	b.WriteString("# ecardgw campus code device: PRIVATE user key and certificate\n")
	fmt.Fprintf(&b, "kind: %s\nalg: %s\naccount: %d\nprivate: %x\ncert: %x\ncounter: %d\n",
		kindDevice, d.alg, d.Account, d.private(), d.Cert, d.Counter)
	return writeFile(path, b.Bytes())
}

// LoadDevice reads a device file and checks that the certificate belongs to
// its key and account.
func LoadDevice(path string) (*Device, error) {
	f, err := readFile(path, kindDevice)
	if err != nil {
		return nil, err
	}
	s, err := f.signer()
	if err != nil {
		return nil, err
	}
	account, err := f.uint("account", 64)
	if err != nil {
		return nil, err
	}
	counter, err := f.uint("counter", 16)
	if err != nil {
		return nil, err
	}
	cert, err := f.hex("cert")
	if err != nil {
		return nil, err
	}
	d := &Device{Account: account, Cert: cert, Counter: uint16(counter), signer: s}
	if err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

type keyFile struct {
	path string
	vals map[string]string
}

// readFile parses "name: value" lines. Error messages name the file and the
// field, never a value: values are key material.
func readFile(path, kind string) (*keyFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &keyFile{path: path, vals: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: %s line %d: want name: value", ErrFile, path, n)
		}
		name = strings.TrimSpace(name)
		if _, dup := f.vals[name]; dup {
			return nil, fmt.Errorf("%w: %s: %s appears twice", ErrFile, path, name)
		}
		f.vals[name] = strings.TrimSpace(val)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if got := f.vals["kind"]; got != kind {
		return nil, fmt.Errorf("%w: %s is not a %s file", ErrFile, path, kind)
	}
	return f, nil
}

func (f *keyFile) field(name string) (string, error) {
	v, ok := f.vals[name]
	if !ok {
		return "", fmt.Errorf("%w: %s: missing %s", ErrFile, f.path, name)
	}
	return v, nil
}

func (f *keyFile) uint(name string, bits int) (uint64, error) {
	v, err := f.field(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %s is not a %d-bit unsigned number", ErrFile, f.path, name, bits)
	}
	return n, nil
}

func (f *keyFile) hex(name string) ([]byte, error) {
	v, err := f.field(name)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s is not hex", ErrFile, f.path, name)
	}
	return b, nil
}

func (f *keyFile) signer() (signer, error) {
	name, err := f.field("alg")
	if err != nil {
		return signer{}, err
	}
	alg, err := campuscode.ParseAlgorithm(name)
	if err != nil {
		return signer{}, fmt.Errorf("%w: %s: alg must be ed25519 or sm2", ErrFile, f.path)
	}
	priv, err := f.hex("private")
	if err != nil {
		return signer{}, err
	}
	return signerFromPrivate(alg, priv)
}

// writeFile replaces path atomically with mode 0600: a temporary file in
// the same directory (CreateTemp makes it 0600), fsync, rename.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
