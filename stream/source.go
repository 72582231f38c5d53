package stream

import (
	"context"
	"iter"
)

// Of returns a Stream of vs, in order. It can be ranged any number of
// times.
func Of[T any](vs ...T) Stream[T] { return FromSlice(vs) }

// FromSlice returns a Stream of the elements of s, in order, read as the
// stream is ranged (a change to s shows). It can be ranged any number of
// times. Node's Readable.from(array).
func FromSlice[T any](s []T) Stream[T] {
	return func(yield func(T, error) bool) {
		for _, v := range s {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// FromSeq returns a Stream of the values of seq; it never ends with an
// error. Every range ranges seq again.
func FromSeq[T any](seq iter.Seq[T]) Stream[T] {
	mustFunc(seq == nil)
	return func(yield func(T, error) bool) {
		for v := range seq {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// FromChan returns a Stream of the values received from ch. It ends when ch
// is closed, or with ctx.Err() as its last element when ctx ends first; an
// ended ctx is seen before any value ready on ch. It can be ranged once
// (see ErrConsumed); breaking out of the loop leaves the values not yet
// received in ch.
func FromChan[T any](ctx context.Context, ch <-chan T) Stream[T] {
	mustContext(ctx)
	if ch == nil {
		panic("stream: nil channel")
	}
	var once oneShot
	return func(yield func(T, error) bool) {
		if !once.take() {
			consumed(yield)
			return
		}
		done := ctx.Done()
		for {
			if err := ctx.Err(); err != nil {
				fail(yield, err)
				return
			}
			select {
			case v, ok := <-ch:
				if !ok {
					return
				}
				if !yield(v, nil) {
					return
				}
			case <-done:
				fail(yield, ctx.Err())
				return
			}
		}
	}
}

// Generate returns a Stream of the values fn passes to yield, in the style
// of an iter.Seq; a non-nil error from fn is the stream's last element. fn
// runs on the goroutine that ranges the stream, once per range, and must
// return once yield returns false; a further call of yield, or one after
// fn returned, does nothing and returns false. Node's async generator
// passed to Readable.from.
func Generate[T any](fn func(yield func(T) bool) error) Stream[T] {
	mustFunc(fn == nil)
	return func(yield func(T, error) bool) {
		stopped := false
		err := fn(func(v T) bool {
			if stopped {
				return false
			}
			if !yield(v, nil) {
				stopped = true
				return false
			}
			return true
		})
		if !stopped && err != nil {
			fail(yield, err)
		}
		stopped = true // a yield kept past this range does nothing
	}
}
