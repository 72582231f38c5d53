package events

import "context"

// A Result is what OnceChan delivers: the value of the event, or the error
// that ended the wait.
type Result[T any] struct {
	Value T
	Err   error
}

// OnceChan registers, before it returns, for the next emission of event on
// e, and delivers the outcome on the returned channel: Node's
// events.once(emitter, name) promise, taken at the call and awaited later.
// So an Emit that follows OnceChan on the same goroutine is caught:
//
//	ready := events.OnceChan(ctx, &e, "ready")
//	e.Emit("ready", v)
//	r := <-ready // r.Value == v
//
// The channel receives exactly one Result and is never closed. As with Once,
// an ErrorEvent emitted first (when event is not ErrorEvent) delivers it as
// Err, and the end of ctx delivers ctx.Err(); if ctx has already ended,
// OnceChan registers nothing and the channel holds ctx.Err() at once. Its
// listeners are removed before the Result is sent, whatever comes first.
// Until then they stay registered, whether or not anyone receives: give a ctx
// that ends if the event may never come.
//
// The event listener is a once listener and the ErrorEvent listener too, as
// in Node, so they count toward the listener limit and appear in Listeners.
// OnceChan panics if ctx or e is nil.
func OnceChan[T any](ctx context.Context, e *Emitter[T], event string) <-chan Result[T] {
	checkHelperArgs("OnceChan", ctx, e)
	ch, _ := onceChan(ctx, e, event)
	return ch
}

// Once waits for the next emission of event on e and returns its value:
// Node's events.once, awaited at once. It is <-OnceChan(ctx, e, event), so it
// misses what is emitted before it is called, including by the goroutine
// that calls it; use OnceChan to register first and wait later.
//
// If ErrorEvent is emitted first (and event is not ErrorEvent itself), Once
// returns it as an error: the value itself when it is an error, as Node
// rejects with it. If ctx ends first, Once returns ctx.Err(); if the event
// arrives as ctx ends, either may win; if ctx has already ended, Once returns
// ctx.Err() and registers nothing. In every case Once leaves no listener
// behind. Once panics if ctx or e is nil.
func Once[T any](ctx context.Context, e *Emitter[T], event string) (T, error) {
	checkHelperArgs("Once", ctx, e)
	ch, l := onceChan(ctx, e, event)
	r := <-ch
	if l != nil {
		l.wait()
	}
	return r.Value, r.Err
}

// onceChan is OnceChan, also returning its listening (nil when ctx had
// already ended).
func onceChan[T any](ctx context.Context, e *Emitter[T], event string) (<-chan Result[T], *listening[T]) {
	ch := make(chan Result[T], 1)
	if err := ctx.Err(); err != nil {
		ch <- Result[T]{Err: err}
		return ch, nil
	}
	l := newListening(e)
	// The first to end the listening sends; ch has room for it.
	settle := func(r Result[T]) { l.end(func() { ch <- r }) }
	registered := false
	defer func() {
		if !registered { // a NewListener listener panicked: undo
			l.end(nil)
		}
	}()
	// Whichever listener runs first removes the other, as Node does, so
	// that an "error" stops the wait for event before the Result is sent.
	l.add(event, func(v T) { settle(Result[T]{Value: v}) }, true)
	if event != ErrorEvent {
		l.add(ErrorEvent, func(v T) { settle(Result[T]{Err: errorOf(v)}) }, true)
	}
	l.afterFunc(ctx, func() { settle(Result[T]{Err: ctx.Err()}) })
	registered = true
	return ch, l
}
