package middleware

import (
	"log/slog"
	"time"
)

// Logger returns a layer that logs every request through l once the layers
// after it have returned, koa-logger's job: method, path, status, bytes and
// duration, at level Info. The status is the one the client gets, also for a
// request that failed with an error not yet written (see App). Put Logger
// first, so that it times and sees everything. Nil l means slog.Default().
func Logger(l *slog.Logger) Middleware[*Context] {
	return func(c *Context, next Next) error {
		start := time.Now()
		err := next()
		logger := l
		if logger == nil {
			logger = slog.Default()
		}
		logger.LogAttrs(c.R.Context(), slog.LevelInfo, "request",
			slog.String("method", c.R.Method),
			slog.String("path", c.R.URL.Path),
			slog.Int("status", c.FinalStatus(err)),
			slog.Int64("bytes", c.Size()),
			slog.Duration("duration", time.Since(start)))
		return err
	}
}
