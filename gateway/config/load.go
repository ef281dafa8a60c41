package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of environment overrides: ECARDGW_LISTEN_POS
// overrides listen.pos.
const EnvPrefix = "ECARDGW"

// maxFileSize bounds what Load and LoadKeys read; real files are a few KiB.
const maxFileSize = 4 << 20

// Load reads the YAML configuration at path, applies defaults and
// ECARDGW_* environment overrides, and validates every value. An empty
// path loads defaults and the environment only. The returned error names
// each offending key; when several keys are wrong all are reported, joined.
func Load(path string) (*Config, error) {
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	known := defaults()
	for k, d := range known {
		v.SetDefault(k, d)
	}
	v.SetConfigType("yaml")
	if path != "" {
		data, err := readBounded(path)
		if err != nil {
			return nil, &Error{Key: path, Problem: err.Error(), Err: ErrRead}
		}
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, &Error{Key: path, Problem: "not valid YAML: " + yamlProblem(err), Err: ErrRead}
		}
	}
	if err := checkKnownKeys(v, known); err != nil {
		return nil, err
	}
	var c Config
	if err := v.UnmarshalExact(&c, viper.DecodeHook(decodeHook)); err != nil {
		return nil, decodeError(err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	return readAllBounded(f)
}

func readAllBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, unwrapPathError(err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return data, nil
}

// unwrapPathError drops the path from *os.PathError because our own error
// already names the file.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// yamlProblem strips viper's "While parsing config:" prefix.
func yamlProblem(err error) string {
	s := err.Error()
	if i := strings.Index(s, "yaml: "); i >= 0 {
		return s[i+len("yaml: "):]
	}
	return s
}

// checkKnownKeys rejects keys the file has but this version does not know,
// and a scalar or list where a section (mapping) is expected. Viper would
// otherwise silently keep the defaults underneath.
func checkKnownKeys(v *viper.Viper, known map[string]any) error {
	sections := map[string]bool{}
	for k := range known {
		for i := strings.IndexByte(k, '.'); i >= 0; i = nextDot(k, i) {
			sections[k[:i]] = true
		}
	}
	var errs []error
	keys := v.AllKeys()
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case isKnown(known, k):
		case sections[k]:
			if val := v.Get(k); val != nil {
				if _, ok := val.(map[string]any); !ok {
					errs = append(errs, &Error{Key: k, Problem: "want a mapping of keys", Err: ErrInvalid})
				}
			}
		default:
			errs = append(errs, &Error{Key: k, Problem: "unknown key", Err: ErrUnknownKey})
		}
	}
	return errors.Join(errs...)
}

func isKnown(known map[string]any, k string) bool {
	_, ok := known[k]
	return ok
}

func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

var durationType = reflect.TypeFor[time.Duration]()

// decodeHook replaces viper's default hook: durations must be Go duration
// strings (a bare 60 would otherwise mean 60 ns), comma-separated
// environment values become lists, and numbers must fit their field
// (mapstructure's weak typing would wrap -1 into a uint32).
func decodeHook(from, to reflect.Type, data any) (any, error) {
	if to == durationType {
		switch d := data.(type) {
		case string:
			dur, err := time.ParseDuration(strings.TrimSpace(d))
			if err != nil {
				return nil, fmt.Errorf("%q is not a duration such as \"60s\"", d)
			}
			return dur, nil
		case time.Duration:
			return d, nil
		default:
			return nil, fmt.Errorf("%v is not a duration such as \"60s\" (units are required)", data)
		}
	}
	if from.Kind() == reflect.String && to.Kind() == reflect.Slice {
		s := strings.TrimSpace(data.(string))
		if s == "" {
			return []string{}, nil
		}
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	}
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return checkInteger(to, data)
	}
	return data, nil
}

func checkInteger(to reflect.Type, data any) (any, error) {
	zero := reflect.New(to).Elem()
	unsigned := to.Kind() >= reflect.Uint && to.Kind() <= reflect.Uint64
	rv := reflect.ValueOf(data)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%v is not a whole number", data)
		}
		if f < math.MinInt64 || f >= math.MaxInt64 {
			return nil, fmt.Errorf("%v is out of range", data)
		}
		return checkInteger(to, int64(f))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := rv.Int()
		if unsigned {
			if i < 0 || zero.OverflowUint(uint64(i)) {
				return nil, fmt.Errorf("%d is out of range", i)
			}
		} else if zero.OverflowInt(i) {
			return nil, fmt.Errorf("%d is out of range", i)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u := rv.Uint()
		if unsigned {
			if zero.OverflowUint(u) {
				return nil, fmt.Errorf("%d is out of range", u)
			}
		} else if u > math.MaxInt64 || zero.OverflowInt(int64(u)) {
			return nil, fmt.Errorf("%d is out of range", u)
		}
	case reflect.Bool:
		return nil, fmt.Errorf("%v is not a number", data)
	}
	return data, nil
}

// decodeError turns mapstructure's joined errors into one *Error per key.
func decodeError(err error) error {
	var leaves []error
	collectDecodeErrors(err, &leaves)
	return errors.Join(leaves...)
}

func collectDecodeErrors(err error, out *[]error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collectDecodeErrors(e, out)
		}
		return
	}
	if de, ok := err.(*mapstructure.DecodeError); ok {
		inner := de.Unwrap()
		if _, nested := inner.(*mapstructure.DecodeError); nested {
			collectDecodeErrors(inner, out)
			return
		}
		if _, joined := inner.(interface{ Unwrap() []error }); joined {
			collectDecodeErrors(inner, out)
			return
		}
		problem := inner.Error()
		if rest, ok := strings.CutPrefix(problem, "has invalid keys: "); ok {
			*out = append(*out, &Error{Key: de.Name(), Problem: "unknown key(s): " + rest, Err: ErrUnknownKey})
			return
		}
		*out = append(*out, &Error{Key: de.Name(), Problem: problem, Err: ErrInvalid})
		return
	}
	if u := errors.Unwrap(err); u != nil {
		collectDecodeErrors(u, out)
		return
	}
	*out = append(*out, &Error{Key: "(file)", Problem: err.Error(), Err: ErrInvalid})
}
