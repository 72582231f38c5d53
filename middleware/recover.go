package middleware

import (
	"errors"
	"net/http"

	"github.com/nodekit/nodekit/internal/panics"
)

// Recover returns a layer that turns a panic downstream into a *PanicError,
// which carries the panic value and the goroutine's stack; for an HTTP stack
// that is a 500 response, and the Handler logs the stack. Without Recover a
// panic propagates out of the composed middleware, as in Go generally (a
// net/http server then logs it and drops the connection).
//
// A panic with http.ErrAbortHandler is not recovered: it is how a handler
// asks net/http to abort the response, and it keeps that meaning.
func Recover[C any]() Middleware[C] {
	return func(c C, next Next) (err error) {
		defer func() {
			if v := recover(); v != nil {
				if e, ok := v.(error); ok && errors.Is(e, http.ErrAbortHandler) {
					panic(v)
				}
				err = panics.New(v)
			}
		}()
		return next()
	}
}
