package iso8583_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"ecardgw/codec/frame"
	"ecardgw/codec/hexfix"
	"ecardgw/codec/iso8583"
)

// goldenDir holds the recorded frames: one annotated hex file per frame,
// whose whole-line comments say what the frame must decode to (see
// testdata/frames/README.md for the format).
const goldenDir = "../../testdata/frames"

// goldenNumeric lists the n fields of the campus profile, written from
// shared/spec/pos-protocol.md rather than taken from the codec, so that
// the fixtures stay an independent statement of the wire format.
var goldenNumeric = map[int]bool{2: true, 3: true, 4: true, 11: true, 12: true, 13: true,
	22: true, 25: true, 48: true, 60: true, 61: true}

// goldenSentinels names every error a malformed fixture may expect.
var goldenSentinels = map[string]error{
	"ErrBitOne":       iso8583.ErrBitOne,
	"ErrNotInProfile": iso8583.ErrNotInProfile,
	"ErrTooLong":      iso8583.ErrTooLong,
	"ErrNotBCD":       iso8583.ErrNotBCD,
	"ErrShort":        iso8583.ErrShort,
	"ErrTrailing":     iso8583.ErrTrailing,
	"ErrBadCharset":   iso8583.ErrBadCharset,
	"ErrTooLarge":     frame.ErrTooLarge,
	"ErrTooShort":     frame.ErrTooShort,
}

// goldenFixture is one parsed fixture file.
type goldenFixture struct {
	name string // file name without .txt
	raw  []byte // the frame, LEN included

	ok       bool
	sentinel string // expected error name when !ok
	errField int    // expected FieldError.Field, -1 when not a field error

	mti    string         // "0200"; ok fixtures only
	mak    []byte         // nil when the frame carries no MAC
	fields map[int][]byte // expected values: ASCII digits for n fields, bytes otherwise
}

// loadGoldenFixtures reads every fixture, sorted by name.
func loadGoldenFixtures(t testing.TB) []goldenFixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no fixtures in %s", goldenDir)
	sort.Strings(paths)
	out := make([]goldenFixture, 0, len(paths))
	for _, p := range paths {
		text, err := os.ReadFile(p)
		require.NoError(t, err)
		fx, err := parseGoldenFixture(strings.TrimSuffix(filepath.Base(p), ".txt"), text)
		require.NoError(t, err, p)
		out = append(out, fx)
	}
	return out
}

// parseGoldenFixture reads the expectation comments and decodes the hex.
// Only whole-line comments are expectations; comments after hex bytes
// annotate those bytes and are ignored here.
func parseGoldenFixture(name string, text []byte) (goldenFixture, error) {
	fx := goldenFixture{name: name, errField: -1, fields: map[int][]byte{}}
	raw, err := hexfix.Parse(text)
	if err != nil {
		return fx, err
	}
	fx.raw = raw
	sawExpect := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		c, isComment := strings.CutPrefix(line, "#")
		if !isComment {
			continue
		}
		c = strings.TrimSpace(c)
		switch {
		case strings.HasPrefix(c, "expect:"):
			sawExpect = true
			if err := fx.parseExpect(strings.Fields(strings.TrimPrefix(c, "expect:"))); err != nil {
				return fx, err
			}
		case strings.HasPrefix(c, "mti:"):
			fx.mti = strings.TrimSpace(strings.TrimPrefix(c, "mti:"))
		case strings.HasPrefix(c, "mak:"):
			f := strings.Fields(strings.TrimPrefix(c, "mak:"))
			if len(f) == 0 {
				return fx, errors.New("mak: no key")
			}
			if fx.mak, err = hex.DecodeString(f[0]); err != nil {
				return fx, err
			}
		case strings.HasPrefix(c, "field "):
			if err := fx.parseField(strings.TrimPrefix(c, "field ")); err != nil {
				return fx, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fx, err
	}
	if !sawExpect {
		return fx, errors.New("no '# expect:' line")
	}
	if fx.ok && fx.mti == "" {
		return fx, errors.New("ok fixture without '# mti:' line")
	}
	return fx, nil
}

// parseExpect reads "ok" or "error <Sentinel> [field N]".
func (fx *goldenFixture) parseExpect(w []string) error {
	switch {
	case len(w) == 1 && w[0] == "ok":
		fx.ok = true
		return nil
	case len(w) == 2 && w[0] == "error":
	case len(w) == 4 && w[0] == "error" && w[2] == "field":
		n, err := strconv.Atoi(w[3])
		if err != nil {
			return err
		}
		fx.errField = n
	default:
		return errors.New("expect: want 'ok' or 'error <Sentinel> [field N]'")
	}
	if _, known := goldenSentinels[w[1]]; !known {
		return errors.New("expect: unknown sentinel " + w[1])
	}
	fx.sentinel = w[1]
	return nil
}

// parseField reads `NN: VALUE`: a Go-quoted string (exact bytes), bare
// digits for an n field, or bare hex for a b field.
func (fx *goldenFixture) parseField(s string) error {
	num, val, found := strings.Cut(s, ":")
	if !found {
		return errors.New("field line without ':'")
	}
	f, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil {
		return err
	}
	if _, dup := fx.fields[f]; dup {
		return errors.New("field " + num + " given twice")
	}
	val = strings.TrimSpace(val)
	if strings.HasPrefix(val, `"`) {
		q, err := strconv.QuotedPrefix(val)
		if err != nil {
			return err
		}
		u, err := strconv.Unquote(q)
		if err != nil {
			return err
		}
		fx.fields[f] = []byte(u)
		return nil
	}
	tok := strings.Fields(val)
	if len(tok) == 0 {
		return errors.New("field " + num + ": empty value")
	}
	if goldenNumeric[f] {
		for _, c := range tok[0] {
			if c < '0' || c > '9' {
				return errors.New("field " + num + ": n value is not digits")
			}
		}
		fx.fields[f] = []byte(tok[0])
		return nil
	}
	b, err := hex.DecodeString(tok[0])
	if err != nil {
		return errors.New("field " + num + ": neither quoted nor hex")
	}
	fx.fields[f] = b
	return nil
}

// body is the frame from the MTI on.
func (fx *goldenFixture) body() []byte {
	return fx.raw[frame.LenSize+frame.TPDUSize+frame.HeaderSize:]
}

// isRequest reports whether the fixture's MTI is a request (third digit even).
func (fx *goldenFixture) isRequest() bool {
	return fx.ok && (fx.mti[2]-'0')%2 == 0
}
