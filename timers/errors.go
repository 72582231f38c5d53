package timers

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// ErrClosed is returned by Run on a Loop that a panicking callback closed.
var ErrClosed = errors.New("timers: loop closed")

// ErrRunning is returned by Run while another Run of the same Loop is under
// way: a Loop has one goroutine.
var ErrRunning = errors.New("timers: loop already running")

// A PanicError is what Run returns when a callback panics: the panic value
// and the stack of the loop goroutine where it happened. The Loop is closed
// afterwards (Node exits on an uncaught exception).
type PanicError struct {
	Value any
	Stack []byte
}

// Error describes the panic value; the stack is in Stack.
func (e *PanicError) Error() string { return fmt.Sprintf("timers: callback panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

func newPanicError(v any) *PanicError { return &PanicError{Value: v, Stack: debug.Stack()} }
