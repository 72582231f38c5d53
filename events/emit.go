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
	en := e.names.get(event)
	if en == nil || en.isError {
		if event == ErrorEvent {
			return e.emitError(v)
		}
		return false
	}
	ls := en.list.Load()
	if ls == nil { // removed since lookup: Emit began after the removal
		return false
	}
	e.call(ls, v)
	return true
}

// call runs the listeners of one snapshot.
func (e *Emitter[T]) call(ls *list[T], v T) {
	for _, rs := range ls.parts() {
		for i := range rs {
			r := &rs[i]
			if r.once && !e.claim(r.h) {
				continue
			}
			r.fn(v)
		}
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

func (e *Emitter[T]) emitError(v T) bool {
	if ls := e.snapshot(ErrorMonitor); ls != nil {
		e.call(ls, v)
	}
	if ls := e.snapshot(ErrorEvent); ls != nil {
		e.call(ls, v)
		return true
	}
	panic(&UnhandledError{Value: v})
}
