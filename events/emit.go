package events

// Emit calls, in order and on the calling goroutine, the listeners that event
// had when Emit began, passing v to each, and reports whether there were any:
// Node's emitter.emit.
//
// A listener added during the Emit does not run in it; one removed during it
// still does. Listeners may call any method of e, Emit included: no lock is
// held while they run. A once listener is removed before it is called, so a
// nested or concurrent Emit does not call it again.
//
// A panic in a listener propagates to the caller of Emit, as Node rethrows;
// the listeners after it do not run, and e stays usable.
//
// Emitting ErrorEvent first calls the ErrorMonitor listeners; then, if
// ErrorEvent has no listener, Emit panics with an *UnhandledError carrying v.
func (e *Emitter[T]) Emit(event string, v T) bool {
	var ls *list[T]
	if en := e.names.get(event); en != nil && !en.isError {
		ls = en.list.Load() // nil if emptied since get: Emit began after that
	} else if event == ErrorEvent {
		ls = e.errorListeners(v)
	}
	if ls == nil {
		return false
	}
	// The loop is here, not in a function of its own, because Emit runs it
	// on every call: a call more costs a quarter of an Emit of one listener.
	rs, next := ls.rs, []record[T](nil)
	if ls.head != nil {
		rs, next = ls.head.rs, ls.rs
	}
	for {
		for i := range rs {
			r := &rs[i]
			if r.once && !e.claim(r.h) {
				continue
			}
			r.fn(v)
		}
		if next == nil {
			return true
		}
		rs, next = next, nil
	}
}

// claim decides whether this Emit may call the once listener h and, if so,
// removes h before it is called, as Node's once wrapper does.
func (e *Emitter[T]) claim(h *Listener) bool {
	if !h.claim() {
		return false
	}
	e.remove(h)
	return true
}

// errorListeners calls the ErrorMonitor listeners, then returns the
// ErrorEvent listeners, looked up after the monitors ran as Node does; it
// panics with an *UnhandledError if there are none.
func (e *Emitter[T]) errorListeners(v T) *list[T] {
	e.Emit(ErrorMonitor, v)
	if ls := e.snapshot(ErrorEvent); ls != nil {
		return ls
	}
	panic(&UnhandledError{Value: v})
}
