package events

import (
	"context"
	"iter"
	"sync/atomic"
)

// Once waits for the next emission of event on e and returns its value:
// Node's events.once. If ErrorEvent is emitted first (and event is not
// ErrorEvent itself), Once returns it as an error: the value itself when it is
// an error, as Node rejects with it. If ctx ends first, Once returns ctx.Err();
// if the event arrives as ctx ends, either may win. In every case Once leaves
// no listener behind.
func Once[T any](ctx context.Context, e *Emitter[T], event string) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	send := func(r result) {
		select {
		case ch <- r:
		default: // the other listener already answered
		}
	}
	// Whichever listener runs first removes the other at once, as Node does,
	// so that an "error" stops the wait for event before Once returns.
	var l, el atomic.Pointer[Listener]
	l.Store(e.Once(event, func(v T) {
		e.Off(el.Load())
		send(result{v: v})
	}))
	defer func() { e.Off(l.Load()) }()
	if event != ErrorEvent {
		el.Store(e.Once(ErrorEvent, func(v T) {
			e.Off(l.Load())
			send(result{err: errorOf(v)})
		}))
		defer func() { e.Off(el.Load()) }()
	}
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-ch:
			return r.v, r.err
		default:
			return zero, ctx.Err()
		}
	}
}

// On returns the values emitted for event, in order: Node's events.on. The
// listener is added when a range loop over the sequence starts, not when On is
// called, and removed when the loop ends, by break, panic or the end of ctx;
// each loop gets its own listener.
//
// Values emitted while the loop body runs are buffered without bound, so Emit
// never waits for the loop (Node buffers the same way). When ctx ends the
// listener is removed at once, the values already buffered are still yielded,
// and then the loop ends; check ctx.Err() after it to tell why.
//
// Unlike Node's events.on, On does not listen for ErrorEvent: a sequence of T
// has no place for an error. An unhandled "error" still panics in Emit; to end
// a loop on errors, listen for ErrorEvent and cancel ctx.
func On[T any](ctx context.Context, e *Emitter[T], event string) iter.Seq[T] {
	return func(yield func(T) bool) {
		if ctx.Err() != nil {
			return
		}
		q := newQueue[T]()
		l := e.On(event, q.push)
		done := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(done)
			e.Off(l)
			q.close()
		})
		defer func() {
			if !stop() {
				<-done // the AfterFunc goroutine is finishing: wait for it
			}
			e.Off(l)
		}()
		for {
			v, ok := q.pop()
			if !ok || !yield(v) {
				return
			}
		}
	}
}
