package timers

import (
	"errors"

	"github.com/nodekit/nodekit/internal/panics"
)

// ErrClosed is returned by Run and Post on a closed Loop: one closed by
// Close, or by a callback that panicked or called runtime.Goexit.
var ErrClosed = errors.New("timers: loop closed")

// ErrRunning is returned by Run while another Run of the same Loop is under
// way: a Loop has one goroutine.
var ErrRunning = errors.New("timers: loop already running")

// A PanicError is what Run returns when a callback panics: the panic value
// (Value) and the stack of the loop goroutine where it happened (Stack).
// Unwrap gives the value when it is an error. The Loop is closed afterwards,
// as by Close (Node exits on an uncaught exception). It is one type with
// middleware.PanicError and workerpool.PanicError, so one errors.As finds a
// panic from any of them.
type PanicError = panics.Error
