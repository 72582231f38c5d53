package stream

import (
	"context"
	"iter"
	"sync/atomic"
)

// A Stream is a push iterator of values; a non-nil error is its last
// element, paired with the zero value of T. Range over it like any
// iter.Seq2:
//
//	for v, err := range s {
//		if err != nil {
//			return err // the stream ends here
//		}
//		use(v)
//	}
//
// Breaking out of the loop stops the stream: its stages return, and any
// goroutine it started has exited before the loop statement ends.
//
// Whether a Stream can be ranged twice depends on its source: a Stream over
// a slice, an iter.Seq or a generator function (Of, FromSlice, FromSeq,
// Generate) runs again from the start, and so do the stages built on it; a
// Stream over something consumed by reading it (FromChan, Lines, Chunks, a
// Pipe's Stream) can be ranged once, and any later range yields one
// element, ErrConsumed.
type Stream[T any] iter.Seq2[T, error]

// oneShot guards a source that can be ranged once: take reports whether
// this range is the first.
type oneShot struct{ used atomic.Bool }

// take reports whether the source is still unused, and marks it used; a
// false answer means the caller yields ErrConsumed.
func (o *oneShot) take() bool { return o.used.CompareAndSwap(false, true) }

// consumed yields ErrConsumed as the only element of a second range.
func consumed[T any](yield func(T, error) bool) { fail(yield, ErrConsumed) }

// fail yields err as a stream's last element, paired with T's zero value.
func fail[T any](yield func(T, error) bool, err error) {
	var zero T
	yield(zero, err)
}

// The misuse checks: each panics at the call, with the package prefix.

func mustStream[T any](s Stream[T]) {
	if s == nil {
		panic("stream: nil Stream")
	}
}

func mustFunc(isNil bool) {
	if isNil {
		panic("stream: nil function")
	}
}

func mustContext(ctx context.Context) {
	if ctx == nil {
		panic("stream: nil Context")
	}
}

func mustPositive(n int, what string) {
	if n < 1 {
		panic("stream: " + what + " must be at least 1")
	}
}
