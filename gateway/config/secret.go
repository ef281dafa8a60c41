package config

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[redacted]"

// Secret is key material. Every way fmt and slog have of printing it
// prints [redacted], so a stray %v, %x or log attribute cannot leak a key.
// It is still a []byte for the code that needs the bytes.
type Secret []byte

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, redacted) }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalYAML() (any, error)    { return redacted, nil }
func (s Secret) Equal(o Secret) bool        { return subtle.ConstantTimeCompare(s, o) == 1 }
func (s Secret) isZero() bool               { return subtle.ConstantTimeCompare(s, make([]byte, len(s))) == 1 }

func (k Keys) summary() string {
	return fmt.Sprintf("config.Keys{terminals: %d, wallet_master_load_key: %s, wallet_master_load_keys: %d, storage_key: %s, service_tokens: %d, admin_tokens: %d}",
		len(k.Terminals), set(k.WalletMasterLoadKey), len(k.WalletMasterLoadKeys), set(k.StorageKey), len(k.ServiceTokens), len(k.AdminTokens))
}

func set(s Secret) string {
	if len(s) == 0 {
		return "unset"
	}
	return redacted
}

// String, GoString, Format and LogValue show only counts, never keys.
func (k Keys) String() string             { return k.summary() }
func (k Keys) GoString() string           { return k.summary() }
func (k Keys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.summary()) }
func (k Keys) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("terminals", len(k.Terminals)),
		slog.Bool("wallet_master_load_key", len(k.WalletMasterLoadKey) > 0),
		slog.Int("wallet_master_load_keys", len(k.WalletMasterLoadKeys)),
		slog.Bool("storage_key", len(k.StorageKey) > 0),
		slog.Int("service_tokens", len(k.ServiceTokens)),
		slog.Int("admin_tokens", len(k.AdminTokens)),
	)
}

var (
	_ fmt.Stringer   = Secret(nil)
	_ fmt.GoStringer = Secret(nil)
	_ fmt.Formatter  = Secret(nil)
	_ slog.LogValuer = Secret(nil)
	_ fmt.Formatter  = Keys{}
	_ slog.LogValuer = Keys{}
)
