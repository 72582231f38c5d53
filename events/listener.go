package events

import "sync/atomic"

// A Listener is the handle of one registration, returned by On, Once, Prepend
// and PrependOnce and passed to Off. Handles are compared by pointer: the same
// function registered twice has two handles and runs twice, as in Node.
//
// Node removes a listener by its function; Go functions are not comparable,
// so nodekit removes by handle instead.
type Listener struct {
	event string
	once  bool
	fired atomic.Bool // once listeners: set by the one Emit that calls it
}

// Event returns the name of the event l was registered for.
func (l *Listener) Event() string { return l.event }

// Once reports whether l was registered to run at most once.
func (l *Listener) Once() bool { return l.once }

// claim reports whether the caller is the one Emit that may call the once
// listener l. It is true at most once per handle, across all goroutines.
func (l *Listener) claim() bool { return l.fired.CompareAndSwap(false, true) }

// A record is one element of an event's listener list.
type record[T any] struct {
	fn   func(T)
	h    *Listener
	once bool // copy of h.once, so that Emit does not dereference h
}
