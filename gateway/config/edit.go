package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"

	"ecardgw/codec/mac"
)

// Terminal lifecycle: `ecardgw terminals add`, `disable` and `enable`
// edit the configuration file (and, for add, the key file) in place, the
// way an operator would by hand, keeping the files' comments, modes and
// owners. The running gateway applies them on reload (SIGHUP).

// ErrTerminalExists is returned by AddTerminal for an id already
// configured or already holding a key.
var ErrTerminalExists = errors.New("terminal already exists")

// ErrNoTerminal is returned for an id that is not configured.
var ErrNoTerminal = errors.New("no such terminal")

// AddTerminal adds t to the terminals of the configuration file at
// cfgPath and a fresh random master key for it to the key file that
// configuration names, and returns the key's check value (what the POS
// vendor compares after loading the key). Nothing is changed when the
// result would not load. r is the randomness (crypto/rand when nil).
func AddTerminal(cfgPath string, t Terminal, r io.Reader) (kcv [4]byte, err error) {
	if r == nil {
		r = rand.Reader
	}
	cfg, err := Load(cfgPath)
	if err != nil {
		return kcv, err
	}
	for _, c := range cfg.Terminals {
		if c.ID == t.ID {
			return kcv, fmt.Errorf("%w: %s is configured", ErrTerminalExists, t.ID)
		}
	}
	keys, err := LoadKeys(cfg.Keys.File)
	if err != nil {
		return kcv, err
	}
	if _, ok := keys.TMK(t.ID); ok {
		return kcv, fmt.Errorf("%w: the key file %s has a master key for %s already (remove it, or configure the terminal by hand)",
			ErrTerminalExists, cfg.Keys.File, t.ID)
	}
	tmk := make([]byte, TMKSize)
	if _, err := io.ReadFull(r, tmk); err != nil {
		return kcv, fmt.Errorf("generating the master key: %w", err)
	}
	defer clear(tmk)
	kcv = mac.CheckValue(tmk)

	cfgDoc, cfgOld, err := readYAML(cfgPath)
	if err != nil {
		return kcv, err
	}
	entry := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	addPair(entry, "id", t.ID)
	addPair(entry, "merchant", t.Merchant)
	addPair(entry, "type", string(t.Type))
	if t.Location != "" {
		addPair(entry, "location", t.Location)
	}
	if t.MAK != "" {
		addPair(entry, "mak", string(t.MAK))
	}
	seq := child(cfgDoc, "terminals", yaml.SequenceNode)
	seq.Content = append(seq.Content, entry)

	keyDoc, keyOld, err := readYAML(cfg.Keys.File)
	if err != nil {
		return kcv, err
	}
	km := child(keyDoc, "terminals", yaml.MappingNode)
	hexKey := strings.ToUpper(hex.EncodeToString(tmk))
	km.Content = append(km.Content, scalar(t.ID), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: hexKey, Style: yaml.DoubleQuotedStyle})

	// The key first: a key without a terminal is harmless to a gateway
	// that reloads in between, a terminal without a key is not.
	if err := writeYAML(cfg.Keys.File, keyDoc); err != nil {
		return kcv, err
	}
	if err := writeYAML(cfgPath, cfgDoc); err != nil {
		_ = replaceFile(cfg.Keys.File, keyOld)
		return kcv, err
	}
	if err := checkFiles(cfgPath); err != nil {
		_ = replaceFile(cfgPath, cfgOld)
		_ = replaceFile(cfg.Keys.File, keyOld)
		return kcv, err
	}
	return kcv, nil
}

// SetTerminalDisabled sets or clears a configured terminal's disabled
// flag in the configuration file at cfgPath. It reports whether the file
// changed.
func SetTerminalDisabled(cfgPath, id string, disabled bool) (bool, error) {
	cfg, err := Load(cfgPath)
	if err != nil {
		return false, err
	}
	found := false
	for _, c := range cfg.Terminals {
		if c.ID == id {
			found = true
			if c.Disabled == disabled {
				return false, nil
			}
		}
	}
	if !found {
		return false, fmt.Errorf("%w: %s is not in %s", ErrNoTerminal, id, cfgPath)
	}
	doc, old, err := readYAML(cfgPath)
	if err != nil {
		return false, err
	}
	seq := child(doc, "terminals", yaml.SequenceNode)
	for _, item := range seq.Content {
		if item.Kind != yaml.MappingNode || value(item, "id") != id {
			continue
		}
		removePair(item, "disabled")
		if disabled {
			addPair(item, "disabled", "true")
			item.Content[len(item.Content)-1].Tag = "!!bool"
		}
	}
	if err := writeYAML(cfgPath, doc); err != nil {
		return false, err
	}
	if err := checkFiles(cfgPath); err != nil {
		_ = replaceFile(cfgPath, old)
		return false, err
	}
	return true, nil
}

// checkFiles loads the configuration and its key file as the gateway
// would on reload.
func checkFiles(cfgPath string) error {
	cfg, err := Load(cfgPath)
	if err != nil {
		return err
	}
	keys, err := LoadKeys(cfg.Keys.File)
	if err != nil {
		return err
	}
	return cfg.CheckKeys(keys)
}

// readYAML parses a YAML file into its root mapping, and returns the
// file's bytes too.
func readYAML(path string) (*yaml.Node, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: not valid YAML", path)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s: want a mapping at the top", path)
	}
	return doc.Content[0], data, nil
}

// writeYAML encodes a root mapping into path, replacing the file whole.
func writeYAML(path string, root *yaml.Node) error {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return replaceFile(path, b.Bytes())
}

// replaceFile writes data to path through a temporary file in the same
// directory renamed over it, with the old file's mode and (when this
// process may set it, as root can) owner, so that the gateway's user can
// still read a key file root edited.
func replaceFile(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // after a successful rename there is nothing to remove
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		_ = tmp.Close()
		return err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		if err := tmp.Chown(int(sys.Uid), int(sys.Gid)); err != nil {
			_ = tmp.Close()
			return fmt.Errorf("%s belongs to user %d and this user (%d) cannot hand the edited copy back: run as root or as its owner: %w",
				path, sys.Uid, os.Getuid(), err)
		}
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(name, path)
}

// child returns the value of key in mapping m, creating it of kind when
// missing or null.
func child(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				*v = yaml.Node{Kind: kind}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: kind}
	m.Content = append(m.Content, scalar(key), v)
	return v
}

func value(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Value
		}
	}
	return ""
}

func removePair(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

func addPair(m *yaml.Node, key, val string) {
	m.Content = append(m.Content, scalar(key), scalar(val))
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
