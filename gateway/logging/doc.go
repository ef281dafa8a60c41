// Package logging sets up the gateway's log/slog logger from configuration
// and keeps card data and keys out of the logs.
//
// New builds a text or JSON logger at a configured level, with times in
// UTC. Every logger it returns goes through Handler, a safety net that
// masks card-number-like digit runs and redacts key-like hex runs in
// messages and string attributes, replaces byte slices by their length,
// and redacts attributes named like secrets (key, mak, pik, tmk, frame,
// ...). Code should still mask on purpose with MaskPAN: the net catches
// mistakes, it is not the policy.
//
// It is not for metrics (package metrics), audit records (the journal in
// package store) or log shipping and rotation (journald does that under
// the systemd unit in deploy/).
package logging
