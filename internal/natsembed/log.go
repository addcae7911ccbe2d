package natsembed

import (
	"context"
	"fmt"
	"log/slog"
)

// logAdapter implements the server's Logger interface on top of slog, so
// that the embedded server never writes to stdout.
type logAdapter struct{ l *slog.Logger }

func (a logAdapter) log(level slog.Level, format string, v []any) {
	ctx := context.Background()
	if !a.l.Enabled(ctx, level) {
		return
	}
	a.l.Log(ctx, level, fmt.Sprintf(format, v...), slog.String("component", "nats-server"))
}

// Noticef logs at Debug: notices are the server's startup banner and
// routine lifecycle lines, which would drown Herald's own Info logs.
func (a logAdapter) Noticef(format string, v ...any) { a.log(slog.LevelDebug, format, v) }

func (a logAdapter) Warnf(format string, v ...any) { a.log(slog.LevelWarn, format, v) }

// Fatalf logs at Error and does not exit: the embedding process decides
// what a failed server means (Start reports it as not ready).
func (a logAdapter) Fatalf(format string, v ...any) { a.log(slog.LevelError, format, v) }

func (a logAdapter) Errorf(format string, v ...any) { a.log(slog.LevelError, format, v) }

func (a logAdapter) Debugf(format string, v ...any) { a.log(slog.LevelDebug, format, v) }

func (a logAdapter) Tracef(format string, v ...any) { a.log(slog.LevelDebug, format, v) }
