package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Config is the logging section of the gateway configuration.
type Config struct {
	Format string    `mapstructure:"format"` // "text" (default) or "json"
	Level  string    `mapstructure:"level"`  // "debug", "info" (default), "warn", "error"
	Output io.Writer `mapstructure:"-"`      // os.Stderr when nil (journald under systemd)

	// LevelVar, when set, receives the configured level and is the
	// handler's level, so a reload (SIGHUP) can change the level of the
	// running logger with LevelVar.Set.
	LevelVar *slog.LevelVar `mapstructure:"-"`
	// AddSource adds file:line to each record; off by default because it
	// costs a runtime.Caller on every record.
	AddSource bool `mapstructure:"add_source"`
}

// ParseLevel reads a configured level name (case-insensitive; "" is info).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrLevel, s)
}

// New builds the gateway logger described by cfg, wrapped in Handler.
func New(cfg Config) (*slog.Logger, error) {
	lvl, err := ParseLevel(cfg.Level)
	if err != nil {
		return nil, err
	}
	var leveler slog.Leveler = lvl
	if cfg.LevelVar != nil {
		cfg.LevelVar.Set(lvl)
		leveler = cfg.LevelVar
	}
	out := cfg.Output
	if out == nil {
		out = os.Stderr
	}
	opts := &slog.HandlerOptions{Level: leveler, AddSource: cfg.AddSource, ReplaceAttr: utcTime}
	var inner slog.Handler
	switch strings.ToLower(strings.TrimSpace(cfg.Format)) {
	case "", "text":
		inner = slog.NewTextHandler(out, opts)
	case "json":
		inner = slog.NewJSONHandler(out, opts)
	default:
		return nil, fmt.Errorf("%w: %q", ErrFormat, cfg.Format)
	}
	return slog.New(NewHandler(inner)), nil
}

// utcTime writes record times in UTC: the box may run in local time, but
// logs are compared with the journal and the centre, which are UTC.
func utcTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
		a.Value = slog.TimeValue(a.Value.Time().UTC())
	}
	return a
}
