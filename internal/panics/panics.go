// Package panics holds the one error type that carries a recovered panic.
// middleware, stream, timers and workerpool each re-export it by alias as
// PanicError, so a program that uses several of them tests for one type:
//
//	var pe *workerpool.PanicError // the same type as *timers.PanicError
//	if errors.As(err, &pe) { log.Print(string(pe.Stack)) }
package panics

import (
	"fmt"
	"runtime/debug"
)

// An Error is a recovered panic: the value passed to panic and the stack of
// the goroutine that panicked, taken where it was recovered.
type Error struct {
	Value any    // the value passed to panic
	Stack []byte // debug.Stack() of the panicking goroutine
}

// New returns an *Error for the panic value v with the current goroutine's
// stack. Call it from the deferred function that recovered v, so that the
// stack still holds the frames that panicked.
func New(v any) *Error { return &Error{Value: v, Stack: debug.Stack()} }

// Error describes the panic value; the stack is in Stack.
func (e *Error) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through the panic to it.
func (e *Error) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}
