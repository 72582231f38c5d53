package stream

import (
	"context"
	"sync"
	"time"

	"github.com/nodekit/nodekit/internal/panics"
)

// maxPrealloc caps the capacity a batch slice is made with, so that a
// large n costs memory only as values arrive.
const maxPrealloc = 1024

// Batch returns a Stream of the values of s in slices of n, in order; the
// last slice holds what is left and may be shorter. Each slice is new: the
// consumer may keep it. An error from s ends the stream with it, after a
// slice of the values that came before it. Batch runs on the goroutine that
// ranges it; the cost is one slice per batch. It panics if n < 1.
func Batch[T any](s Stream[T], n int) Stream[[]T] {
	mustStream(s)
	mustPositive(n, "batch size")
	return func(yield func([]T, error) bool) {
		var b []T
		for v, err := range s {
			if err != nil {
				if len(b) > 0 && !yield(b, nil) {
					return
				}
				yield(nil, err)
				return
			}
			if b == nil {
				b = make([]T, 0, min(n, maxPrealloc))
			}
			if b = append(b, v); len(b) == n {
				if !yield(b, nil) {
					return
				}
				b = nil
			}
		}
		if len(b) > 0 {
			yield(b, nil)
		}
	}
}

// An item is one element of a stream on its way between goroutines.
type item[T any] struct {
	v   T
	err error
}

// BatchTimeout returns a Stream of the values of s in slices of at most n,
// in order: a slice goes out when it holds n values, or d after its first
// value arrived, whichever comes first, and at the end of s (a shorter
// one). Each slice is new. An error from s ends the stream with it, after a
// slice of the values that came before it; the end of ctx ends it with
// ctx.Err(), and the values of the slice being filled are dropped.
//
// A goroutine ranges s and hands its values over (so s's stages run on it;
// a panic or runtime.Goexit there ends the stream with a *PanicError or
// ErrGoexit, and a panic after the consumer stopped is re-raised by the
// range statement); it is at most n values ahead of the slice being filled.
// Stopping the stream stops it at s's next element, and waits for it.
// BatchTimeout panics if ctx is nil, n < 1 or d <= 0.
func BatchTimeout[T any](ctx context.Context, s Stream[T], n int, d time.Duration) Stream[[]T] {
	mustContext(ctx)
	mustStream(s)
	mustPositive(n, "batch size")
	if d <= 0 {
		panic("stream: non-positive batch timeout")
	}
	return func(yield func([]T, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		items := make(chan item[T], min(n, maxPrealloc))
		stop := make(chan struct{})
		var late *PanicError // a panic of s after the consumer stopped
		var wg sync.WaitGroup
		wg.Go(func() { late = produce(s, items, stop) })
		normal := false // the consumer did not panic or call runtime.Goexit
		defer func() {
			close(stop)
			wg.Wait()
			for it := range items { // what the consumer did not take
				if pe, ok := it.err.(*PanicError); ok && late == nil {
					late = pe
				}
			}
			if late != nil && normal {
				panic(late) // never swallowed
			}
		}()
		batches(ctx, items, n, d, yield)
		normal = true
	}
}

// batches is BatchTimeout's consumer side: it fills slices from items and
// hands them out.
func batches[T any](ctx context.Context, items <-chan item[T], n int, d time.Duration, yield func([]T, error) bool) {
	timer := time.NewTimer(d)
	timer.Stop()
	defer timer.Stop()
	var b []T
	for {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		select {
		case it, ok := <-items:
			switch {
			case !ok:
				if len(b) > 0 {
					yield(b, nil)
				}
				return
			case it.err != nil:
				if len(b) > 0 && !yield(b, nil) {
					return
				}
				yield(nil, it.err)
				return
			}
			if b == nil {
				b = make([]T, 0, min(n, maxPrealloc))
			}
			if b = append(b, it.v); len(b) == 1 {
				timer.Reset(d)
			}
			if len(b) == n {
				timer.Stop()
				out := b
				b = nil
				if !yield(out, nil) {
					return
				}
			}
		case <-timer.C:
			out := b
			b = nil
			if len(out) > 0 && !yield(out, nil) {
				return
			}
		case <-ctx.Done():
			yield(nil, ctx.Err())
			return
		}
	}
}

// produce ranges s on its own goroutine and sends its elements to items,
// until s ends or stop is closed, then closes items. A panic or a
// runtime.Goexit in s becomes the last element; a panic that comes once
// the consumer has stopped is returned, for the consumer to re-raise.
func produce[T any](s Stream[T], items chan<- item[T], stop <-chan struct{}) (late *PanicError) {
	normal := false
	defer func() {
		if !normal {
			var it item[T]
			if v := recover(); v != nil {
				it.err = panics.New(v)
			} else {
				it.err = ErrGoexit
			}
			if closed(stop) {
				late, _ = it.err.(*PanicError)
			} else {
				select {
				case items <- it:
				case <-stop:
					late, _ = it.err.(*PanicError)
				}
			}
		}
		close(items)
	}()
	for v, err := range s {
		select {
		case items <- item[T]{v, err}:
		case <-stop:
		}
		if err != nil || closed(stop) {
			break
		}
	}
	normal = true // s has returned
	return nil
}

// closed reports whether c is closed.
func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
