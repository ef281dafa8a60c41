package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Flat is a configuration (and optionally a key file) as dotted keys and
// printable values: what `ecardgw config show` prints and what
// `ecardgw config check` compares with the running gateway. It never holds
// a secret: a key or token is a fingerprint (see Fingerprint), a URL loses
// its password.
type Flat map[string]string

// Flatten lists every setting of c by its file key (terminals and issuers
// by their id, so that removing one does not renumber the others) and, when
// k is not nil, every entry of the key file under "keys." as a fingerprint.
func Flatten(c *Config, k *Keys) Flat {
	f := Flat{}
	flattenValue(f, "", reflect.ValueOf(*c))
	if k != nil {
		for id, tmk := range k.Terminals {
			f["keys.terminals."+id] = Fingerprint(tmk)
		}
		if len(k.WalletMasterLoadKey) > 0 {
			f["keys.wallet_master_load_key"] = Fingerprint(k.WalletMasterLoadKey)
		}
		for v, key := range k.WalletMasterLoadKeys {
			f["keys.wallet_master_load_keys."+strconv.Itoa(int(v))] = Fingerprint(key)
		}
		f["keys.storage_key"] = Fingerprint(k.StorageKey)
		for i, t := range k.ServiceTokens {
			f["keys.service_tokens["+strconv.Itoa(i)+"]"] = Fingerprint(t)
		}
		for i, t := range k.AdminTokens {
			f["keys.admin_tokens["+strconv.Itoa(i)+"]"] = Fingerprint(t)
		}
		u := k.Upstream
		for name, s := range map[string]Secret{"centre_token": u.CentreToken, "nats_user": u.NATSUser,
			"nats_password": u.NATSPassword, "nats_token": u.NATSToken} {
			if len(s) > 0 {
				f["keys.upstream."+name] = Fingerprint(s)
			}
		}
	}
	return f
}

// Fingerprint identifies a key or token without revealing it: the first
// 8 hex digits of its SHA-256, so two files can be compared. Keys are
// random 128 bits or more, tokens at least 32 characters: 32 bits of a hash
// say nothing usable about them.
func Fingerprint(s Secret) string {
	sum := sha256.Sum256(append([]byte("ecardgw key fingerprint\x00"), s...))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

var timeType = reflect.TypeFor[time.Time]()

func flattenValue(f Flat, prefix string, v reflect.Value) {
	switch {
	case v.Type() == durationType:
		f[prefix] = time.Duration(v.Int()).String()
		return
	case v.Type() == timeType:
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("mapstructure")
			if !sf.IsExported() || tag == "" || tag == "-" {
				continue
			}
			flattenValue(f, join(prefix, tag), v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			for i := 0; i < v.Len(); i++ {
				flattenValue(f, prefix+"."+elemName(v.Index(i), i), v.Index(i))
			}
			if v.Len() == 0 {
				f[prefix] = "[]"
			}
			return
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		f[prefix] = "[" + strings.Join(parts, ", ") + "]"
	case reflect.String:
		s := v.String()
		if strings.HasSuffix(prefix, ".url") {
			s = redactURL(s)
		}
		f[prefix] = s
	default:
		f[prefix] = fmt.Sprint(v.Interface())
	}
}

// elemName names a list element by its id (terminals), key_id (issuers)
// or match (card readers) when it has one, else by its index.
func elemName(v reflect.Value, i int) string {
	t := v.Type()
	for _, tag := range []string{"id", "key_id", "match"} {
		for j := 0; j < t.NumField(); j++ {
			if t.Field(j).Tag.Get("mapstructure") == tag {
				return fmt.Sprint(v.Field(j).Interface())
			}
		}
	}
	return "[" + strconv.Itoa(i) + "]"
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// redactURL drops the password of a URL with user information.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	return u.String()
}

// Keys returns the keys sorted.
func (f Flat) Keys() []string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// EnvName is the environment variable that overrides a file key
// (listen.pos: ECARDGW_LISTEN_POS).
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// EnvOverrides returns the ECARDGW_* variables of this process that
// override a configuration key, name to value.
func EnvOverrides() map[string]string {
	out := map[string]string{}
	for k := range defaults() {
		if v, ok := os.LookupEnv(EnvName(k)); ok {
			out[EnvName(k)] = v
		}
	}
	return out
}

// FromEnv reports whether key's value was taken from the environment.
func FromEnv(key string) bool {
	if _, known := defaults()[key]; !known {
		return false
	}
	_, ok := os.LookupEnv(EnvName(key))
	return ok
}

// Change is one setting that differs between two Flats.
type Change struct {
	Key      string
	Old, New string // "" when the key is not on that side
	// Restart is true when the running gateway applies the change only on
	// restart (see Reloadable).
	Restart bool
}

// Diff lists what differs from old (the running gateway's) to new, sorted
// by key.
func Diff(old, new Flat) []Change {
	local := old.cardIOBound()
	restart := func(k string) bool { return !Reloadable(k) || local(k) }
	var out []Change
	for k, o := range old {
		if n, ok := new[k]; !ok || n != o {
			out = append(out, Change{Key: k, Old: o, New: new[k], Restart: restart(k)})
		}
	}
	for k, n := range new {
		if _, ok := old[k]; !ok {
			out = append(out, Change{Key: k, New: n, Restart: restart(k)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// cardIOBound reports the keys that the gateway's own card readers took at
// start (cardio.enabled): the terminals they act as, with their TMKs, and
// the wallet limit they load up to. Those change only on restart.
func (f Flat) cardIOBound() func(string) bool {
	if f["cardio.enabled"] != "true" {
		return func(string) bool { return false }
	}
	ids := map[string]bool{}
	for k, v := range f {
		if strings.HasPrefix(k, "cardio.readers.") && strings.HasSuffix(k, ".terminal") {
			ids[v] = true
		}
	}
	return func(k string) bool {
		if k == "limits.wallet_limit_fen" {
			return true
		}
		for id := range ids {
			if k == "keys.terminals."+id || strings.HasPrefix(k, "terminals."+id+".") {
				return true
			}
		}
		return false
	}
}

// reloadable are the keys (and key prefixes ending in a dot) a SIGHUP
// applies to the running gateway; every other change needs a restart.
var reloadable = []string{
	"terminals", "terminals.",
	"limits.", "standin.", "campuscode.",
	"log.level", "keys.file",
	"keys.terminals.", "keys.wallet_master_load_key", "keys.wallet_master_load_keys.",
	"keys.service_tokens[", "keys.admin_tokens[",
}

// Reloadable reports whether a change of key is applied by a reload
// (SIGHUP), whatever the running configuration: terminals and their keys
// (except those of the gateway's own card readers, see Diff), limits.*, standin.*, campuscode.*,
// log.level, the wallet master load keys and the service and admin
// tokens. The rest (mode, listen.*, store.*, server.*, centre.*,
// payments.*, forward.*, cardio.*, admin.*, session.*, log.format, the
// storage key and the upstream credentials) needs a restart.
func Reloadable(key string) bool {
	for _, r := range reloadable {
		if key == r || (strings.HasSuffix(r, ".") || strings.HasSuffix(r, "[")) && strings.HasPrefix(key, r) {
			return true
		}
	}
	return false
}

// RestartKeys returns the keys among changes that need a restart.
func RestartKeys(changes []Change) []string {
	var out []string
	for _, c := range changes {
		if c.Restart {
			out = append(out, c.Key)
		}
	}
	return out
}
