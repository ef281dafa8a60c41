package server

import (
	"context"
	"fmt"
	"log/slog"
)

// gnetLogger routes gnet's own logging into slog. gnet's Info messages
// (start-up banners) go to Debug so they do not crowd the gateway's log;
// Fatalf is logged as an error and does not exit: only cmd/ decides that.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) logf(lvl slog.Level, format string, args ...any) {
	if !g.l.Enabled(context.Background(), lvl) {
		return
	}
	g.l.Log(context.Background(), lvl, fmt.Sprintf(format, args...), "component", "gnet")
}

func (g gnetLogger) Debugf(format string, args ...any) { g.logf(slog.LevelDebug, format, args...) }
func (g gnetLogger) Infof(format string, args ...any)  { g.logf(slog.LevelDebug, format, args...) }
func (g gnetLogger) Warnf(format string, args ...any)  { g.logf(slog.LevelWarn, format, args...) }
func (g gnetLogger) Errorf(format string, args ...any) { g.logf(slog.LevelError, format, args...) }
func (g gnetLogger) Fatalf(format string, args ...any) { g.logf(slog.LevelError, format, args...) }

func typeName(v any) string { return fmt.Sprintf("%T", v) }
