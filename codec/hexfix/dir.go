package hexfix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Fixture is one parsed fixture file.
type Fixture struct {
	Name  string // file name without directory
	Bytes []byte
}

// ParseDir parses every *.txt file in dir, in name order. A missing dir
// yields no fixtures and no error, so seed loaders work before the
// fixtures are written; any file that does not parse is an error naming it.
func ParseDir(dir string) ([]Fixture, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Fixture, 0, len(names))
	for _, n := range names {
		text, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		b, err := Parse(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(n), err)
		}
		out = append(out, Fixture{Name: filepath.Base(n), Bytes: b})
	}
	return out, nil
}
