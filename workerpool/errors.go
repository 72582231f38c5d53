package workerpool

import (
	"context"
	"errors"

	"github.com/nodekit/nodekit/internal/panics"
)

// ErrClosed is returned when submitting to a pool that is shutting down or
// closed; it is also the context.Cause of the tasks that a hard stop
// cancels, and Shutdown's result when Close stopped the pool first.
var ErrClosed = errors.New("workerpool: pool closed")

// ErrQueueFull is returned by TrySubmit and TryGo when a bounded queue has
// no room.
var ErrQueueFull = errors.New("workerpool: queue full")

// ErrCanceled is the error of a task that never ran: cancelled with Cancel,
// taken off the queue by a hard stop (Close, or a Shutdown whose context
// ended), or whose own context ended while it was queued. libuv's
// UV_ECANCELED. The error also wraps the cause: ErrClosed for Close, the
// context's error otherwise.
var ErrCanceled = errors.New("workerpool: task canceled")

// A PanicError is the error of a task that panicked: the panic value
// (Value) and the stack of the worker goroutine (Stack). Unwrap gives the
// value when it is an error. Go and Group tasks return it from Wait, and
// their worker goes on; a Submit task's panic is not recovered and crashes
// the program (see Submit). It is one type with middleware.PanicError and
// timers.PanicError, so one errors.As finds a panic from any of them.
type PanicError = panics.Error

// ErrGoexit is the error of a task that called runtime.Goexit (as
// testing's t.FailNow does) instead of returning.
var ErrGoexit = errors.New("workerpool: task called runtime.Goexit")

// mustContext panics, at the call, if ctx is nil: a nil context would panic
// later on a worker.
func mustContext(ctx context.Context) {
	if ctx == nil {
		panic("workerpool: nil Context")
	}
}

// mustPool panics, at the call, if p is nil.
func mustPool(p *Pool) {
	if p == nil {
		panic("workerpool: nil Pool")
	}
}

// nilFunc is the panic for a nil task or callback, at the call: libuv's
// uv_queue_work answers a NULL work_cb with UV_EINVAL.
const nilFunc = "workerpool: nil function"
