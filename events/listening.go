package events

import (
	"context"
	"sync"
)

// checkHelperArgs panics, at the call, on the misuse that would otherwise
// panic later on another goroutine.
func checkHelperArgs[T any](name string, ctx context.Context, e *Emitter[T]) {
	switch {
	case ctx == nil:
		panic("events: " + name + " with a nil Context")
	case e == nil:
		panic("events: " + name + " with a nil *Emitter")
	}
}

// A listening is the set of listeners that one Once, OnceChan or On call
// registers, with the context.AfterFunc that ends them. The first call of
// end removes them all; a registration that comes after it removes itself at
// once.
type listening[T any] struct {
	e       *Emitter[T]
	removed chan struct{} // closed when the first end is done

	mu    sync.Mutex // guards the fields below, and the buffer of On's sequence
	hs    []*Listener
	stop  func() bool // the AfterFunc's; nil until registered
	ended bool
}

func newListening[T any](e *Emitter[T]) *listening[T] {
	return &listening[T]{e: e, removed: make(chan struct{})}
}

// add registers fn for event, as a once listener if once is true, unless
// the listening has ended.
func (l *listening[T]) add(event string, fn func(T), once bool) {
	var h *Listener
	if once {
		h = l.e.Once(event, fn)
	} else {
		h = l.e.On(event, fn)
	}
	l.mu.Lock()
	ended := l.ended
	if !ended {
		l.hs = append(l.hs, h)
	}
	l.mu.Unlock()
	if ended {
		l.e.Off(h)
	}
}

// afterFunc arranges for f to run, on a goroutine of its own, when ctx
// ends, unless the listening ends first.
func (l *listening[T]) afterFunc(ctx context.Context, f func()) {
	stop := context.AfterFunc(ctx, f)
	l.mu.Lock()
	ended := l.ended
	l.stop = stop
	l.mu.Unlock()
	if ended {
		stop()
	}
}

// end stops the AfterFunc and removes the listeners, in the order they were
// added (as Node's listenersController does), then calls done if it is not
// nil. Only the first call does this and returns true; the others return
// false at once. A RemoveListener listener that panics or exits the
// goroutine does not stop it: the rest are removed and done is called on the
// way out.
func (l *listening[T]) end(done func()) bool {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return false
	}
	l.ended = true
	hs, stop := l.hs, l.stop
	l.mu.Unlock()
	defer func() {
		close(l.removed)
		if done != nil {
			done()
		}
	}()
	if stop != nil {
		stop()
	}
	l.off(hs)
	return true
}

// off removes hs in order, each also when removing one before it panicked.
func (l *listening[T]) off(hs []*Listener) {
	if len(hs) == 0 {
		return
	}
	defer l.off(hs[1:])
	l.e.Off(hs[0])
}

// wait returns once the first end is done.
func (l *listening[T]) wait() { <-l.removed }
