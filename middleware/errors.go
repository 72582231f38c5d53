package middleware

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/nodekit/nodekit/internal/panics"
)

// ErrNextCalledMultipleTimes is returned by a Next called a second time; the
// second call runs nothing. Koa's "next() called multiple times".
var ErrNextCalledMultipleTimes = errors.New("middleware: next() called multiple times")

// ErrNextAfterReturn is returned by a Next called after the layer it was
// given to has returned (from a goroutine the layer left behind); it runs
// nothing.
var ErrNextAfterReturn = errors.New("middleware: next() called after its middleware returned")

// An HTTPError is an error that carries the HTTP status to answer with, Koa's
// ctx.throw(status, message). Message is sent to the client; Err, the cause,
// is only logged. Use Error to make one.
type HTTPError struct {
	Code    int    // HTTP status code, 400-599
	Message string // sent as the response body; "" means http.StatusText(Code)
	Err     error  // the cause, never sent; may be nil
}

// Error returns an *HTTPError with the given status and client-facing
// message, formatted as by fmt.Sprintf. Wrap a cause by setting Err, or use
// fmt.Errorf("…: %w", err) around it: StatusOf finds the code either way.
func Error(code int, format string, args ...any) *HTTPError {
	return &HTTPError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error describes e, including its cause.
func (e *HTTPError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Code)
	}
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Code, msg, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Code, msg)
}

// Unwrap returns the cause.
func (e *HTTPError) Unwrap() error { return e.Err }

// StatusCode returns e.Code.
func (e *HTTPError) StatusCode() int { return e.Code }

// StatusOf returns the HTTP status that err answers with: the code of the
// first error in its chain with a StatusCode() int method (an *HTTPError, or
// any type of yours) when it is 400-599, 200 for nil, and 500 otherwise.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var sc interface{ StatusCode() int }
	if errors.As(err, &sc) {
		if code := sc.StatusCode(); code >= 400 && code <= 599 {
			return code
		}
	}
	return http.StatusInternalServerError
}

// A PanicError is the error Recover turns a panic into: the panic value
// (Value) and the stack of the goroutine that panicked (Stack). Unwrap gives
// the value when it is an error. It is one type with timers.PanicError and
// workerpool.PanicError, so one errors.As finds a panic from any of them.
type PanicError = panics.Error
