package workerpool

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// ErrClosed is returned when submitting to a pool that is closing or closed.
var ErrClosed = errors.New("workerpool: pool closed")

// ErrQueueFull is returned by TrySubmit and TryGo when a bounded queue has
// no room.
var ErrQueueFull = errors.New("workerpool: queue full")

// ErrCanceled is the error of a task that never ran: cancelled with Cancel,
// dropped by a Close whose context ended, or whose own context ended before
// it started. libuv's UV_ECANCELED. When a context was the cause, the error
// also wraps that context's error.
var ErrCanceled = errors.New("workerpool: task canceled")

// A PanicError is the error of a task that panicked: the panic value and the
// stack of the worker goroutine. A panic never crashes the pool or its
// worker; it is never lost either: a Task reports it from Wait, a Submit
// task through the pool's Logger.
type PanicError struct {
	Value any
	Stack []byte
}

// Error describes the panic value; the stack is in Stack.
func (e *PanicError) Error() string { return fmt.Sprintf("workerpool: task panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

func newPanicError(v any) *PanicError { return &PanicError{Value: v, Stack: debug.Stack()} }
