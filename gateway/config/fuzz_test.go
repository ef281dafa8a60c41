package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join(testdata, pattern))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b)
	}
}

var longHex = regexp.MustCompile(`[0-9a-fA-F]{16,}`)

// FuzzLoadKeys: no input panics; an error never quotes a long hex run from
// the file; an accepted file re-encodes to a file that loads to the same
// Keys, and re-encoding that gives the same bytes.
func FuzzLoadKeys(f *testing.F) {
	addSeeds(f, "keys-*.yaml")
	f.Add([]byte(goodKeyFile()))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "keys.yaml")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		k, err := LoadKeys(path)
		if err != nil {
			require.ErrorIs(t, err, ErrKeyFile)
			msg := strings.ToLower(err.Error())
			for _, run := range longHex.FindAllString(string(data), -1) {
				require.NotContains(t, msg, strings.ToLower(run[:16]))
			}
			return
		}
		enc := k.Marshal()
		k2, err := parseKeys(enc)
		require.NoError(t, err)
		require.Equal(t, k, k2)
		require.Equal(t, enc, k2.Marshal())
	})
}

// FuzzLoadConfig: no input panics; every error is a config error wrapping
// a sentinel; an accepted configuration validates again unchanged.
func FuzzLoadConfig(f *testing.F) {
	addSeeds(f, "*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		c, err := Load(path)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "config: "), err.Error())
			require.True(t, errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrRead), err.Error())
			return
		}
		again := *c
		again.Terminals = slices.Clone(c.Terminals)
		again.CampusCode.Issuers = slices.Clone(c.CampusCode.Issuers)
		require.NoError(t, again.validate())
		require.Equal(t, c.CampusCode.Issuers, again.CampusCode.Issuers)
		for _, term := range c.Terminals {
			got, ok := c.Terminal(term.ID)
			require.True(t, ok)
			require.Equal(t, term, got)
		}
	})
}
