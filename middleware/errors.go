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
// given to has returned (from a goroutine the layer left behind, or a copy
// kept for later); it runs nothing.
var ErrNextAfterReturn = errors.New("middleware: next() called after its middleware returned")

// An HTTPError is an error that carries the HTTP response to answer with,
// Koa's ctx.throw(status, message, {headers}). Message and Header are sent to
// the client; Err, the cause, is only logged (for a 5xx). Errorf makes one.
type HTTPError struct {
	Code    int         // HTTP status code, 400-599
	Message string      // sent as the text/plain body; "" means http.StatusText(Code)
	Header  http.Header // sent with the response (WWW-Authenticate, Allow, Retry-After); may be nil
	Err     error       // the cause, never sent; may be nil
}

// Errorf returns an *HTTPError with status code and a client-facing message
// formatted as by fmt.Sprintf, as gRPC's status.Errorf does. It builds an
// error; it writes nothing (unlike http.Error). The message is sent to the
// client, so format no internal error into it: set Err to keep a cause.
func Errorf(code int, format string, args ...any) *HTTPError {
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

// StatusCode returns e.Code. An App answers any error whose chain holds a
// StatusCode() int method returning 400-599 with that status, so an error
// type of yours can carry one too.
func (e *HTTPError) StatusCode() int { return e.Code }

// statusOf returns the HTTP status that err answers with: the code of the
// first error in its chain with a StatusCode() int method when it is
// 400-599, 200 for nil, and 500 otherwise.
func statusOf(err error) int {
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

// An answeredError is an error that a Wrap layer has already answered
// through the writer its net/http middleware gave: the App logs it but
// writes nothing more.
type answeredError struct{ err error }

func (e *answeredError) Error() string { return e.err.Error() }
func (e *answeredError) Unwrap() error { return e.err }
