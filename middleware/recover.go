package middleware

import (
	"errors"
	"net/http"

	"github.com/nodekit/nodekit/internal/panics"
)

// Recover returns a layer that turns a panic downstream into a *PanicError,
// which carries the panic value and the goroutine's stack; in an App that is
// a 500 response (or an aborted one, if the response was already committed),
// and the App logs the stack. Without Recover a panic propagates out of the
// composed middleware, as in Go generally (a net/http server then logs it
// and drops the connection). The Nexts of the layers the panic went through
// are stale once Recover's layer has returned.
//
// A panic with http.ErrAbortHandler is not recovered: it is how a handler
// asks net/http to abort the response, and it keeps that meaning. Neither is
// runtime.Goexit, which cannot be.
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
		return next.Call()
	}
}
