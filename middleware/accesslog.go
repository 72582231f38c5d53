package middleware

import (
	"log/slog"
	"time"
)

// AccessLog returns a layer that logs every request through l once the
// layers after it have returned, koa-logger's job: method, path, status,
// bytes and duration, at level Info. The status is the one the client gets,
// also for a request that failed with an error not yet written (see App).
// Put it first, so that it times and sees everything. Nil l means
// slog.Default().
func AccessLog(l *slog.Logger) Middleware[*Context] {
	return func(c *Context, next Next) error {
		start := time.Now()
		err := next.Call()
		logger := l
		if logger == nil {
			logger = slog.Default()
		}
		logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.FinalStatus(err)),
			slog.Int64("bytes", c.Size()),
			slog.Duration("duration", time.Since(start)))
		return err
	}
}
