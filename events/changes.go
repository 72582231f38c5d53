package events

// NewListener and RemoveListener are the events of the emitter returned by
// Changes: Node's 'newListener' and 'removeListener'.
const (
	NewListener    = "newListener"    // emitted before a listener is added
	RemoveListener = "removeListener" // emitted after a listener is removed
)

// A Change is the payload of NewListener and RemoveListener: the event whose
// listeners change and the handle of the listener added or removed.
type Change struct {
	Event    string
	Listener *Listener
}

// Changes returns the emitter on which e announces its listener changes, as
// Node announces them on the emitter itself: NewListener before a listener is
// added (so one added from a NewListener listener comes first), RemoveListener
// after one is removed, including a once listener just before it runs. They
// run on the goroutine that made the change. Node mixes them into the
// emitter's own events; with a typed payload they need their own emitter.
//
// The Changes emitter behaves as those two events of Node's emitter do: it
// announces its own changes too (adding a RemoveListener listener is
// announced to the NewListener listeners, with Change.Event RemoveListener),
// so its Changes method returns itself; it shares e's listener limit (see
// SetMaxListeners) and logs through e's Logger as set when Changes is first
// called; and RemoveAll() on e removes its NewListener and RemoveListener
// listeners as well.
//
// Until Changes is first called, e announces nothing and pays nothing.
func (e *Emitter[T]) Changes() *Emitter[Change] {
	if c := e.changes.Load(); c != nil {
		return c
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.changes.Load(); c != nil {
		return c
	}
	c := &Emitter[Change]{Logger: e.Logger, seqs: &e.seq}
	c.limit.Store(e.limit.Load())
	c.changes.Store(c)
	e.changes.Store(c)
	return c
}

// announce emits a change on c, the Changes emitter of h's emitter, unless
// c is nil: until someone asks for changes.
func announce(c *Emitter[Change], kind string, h *Listener) {
	if c != nil {
		c.Emit(kind, Change{Event: h.event, Listener: h})
	}
}
