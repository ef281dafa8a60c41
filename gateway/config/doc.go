// Package config loads and validates the gateway's configuration file and
// its key file.
//
// The configuration (YAML, read through viper) says where the gateway
// listens, which terminals exist, how campus codes are verified and what
// the limits are. Every key can be overridden from the environment as
// ECARDGW_<PATH> with dots turned into underscores (ECARDGW_LISTEN_POS,
// ECARDGW_STORE_PATH). Load validates everything up front and names the
// offending key, so that a bad value stops the gateway at start-up rather
// than on the first transaction that touches it.
//
// The key file is separate and never passes through viper: viper lowercases
// map keys (terminal ids are case-sensitive) and its errors may quote
// values. LoadKeys refuses a key file that group or others can read and
// never puts key material into an error.
//
// This package is not for runtime state: it does not watch files, hold
// sessions or derive working keys. On SIGHUP the caller runs Load and
// LoadKeys again and uses DiffTerminals to see what changed.
package config
