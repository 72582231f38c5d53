package events

import (
	"cmp"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
)

// An Emitter calls the listeners registered for an event, synchronously and
// in order, each time the event is emitted: Node's EventEmitter with one
// payload type T. The zero Emitter is ready to use and is safe for concurrent
// use. It must not be copied after first use.
//
// Emit takes no lock and, but for removing a once listener it calls, writes
// no shared memory: each event's listeners are an immutable list that
// registration replaces (copy-on-write) by compare-and-swap, and event names
// live in slots that Emit reads without a lock (see names). Registering or
// removing a listener therefore costs O(n) in that event's listener count
// (but adding to a flat list, and removing the listener just added, copy
// nothing: see list), while Emit costs a scan of a few names, or one hash
// lookup beyond those, plus the calls.
type Emitter[T any] struct {
	// Logger receives the max-listeners warning. Nil means slog.Default();
	// slog.New(slog.DiscardHandler) silences it. Set it before first use.
	Logger *slog.Logger

	names   names[T]                        // the events with ≥1 listener
	changes atomic.Pointer[Emitter[Change]] // see Changes; nil until asked for

	// seq counts events that got a first listener, for EventNames and
	// RemoveAll. The emitter that Changes returns counts on its owner's
	// counter (seqs), so that the two orders interleave as Node's one
	// object's keys do; seqs is nil for any other emitter.
	seq  atomic.Uint64
	seqs *atomic.Uint64

	limit atomic.Int64 // max listeners per event: 0 means DefaultMaxListeners, <0 none

	// mu serializes the changes to names (an event's first listener and
	// its last), RemoveAll, SetMaxListeners and Changes. Listeners are
	// otherwise added and removed by compare-and-swap, without it.
	mu sync.Mutex

	// Every Emit reads names.few: an Emitter made by new fills whole cache
	// lines, like the other objects Emit reads (see lineSize).
	_ [16]byte
}

// An entry is one event name's registration state. A live entry (one in
// names) has a non-nil list; its list becomes nil when its last listener
// goes, under mu, and then it leaves names: an event that gets listeners
// again gets a new entry. It fills a cache line (see lineSize), because every
// Emit reads it.
type entry[T any] struct {
	list    atomic.Pointer[list[T]] // nil once dead
	name    string
	seq     uint64 // registration order of the name
	isError bool   // the name is ErrorEvent
	_       [lineSize - 40]byte
}

// lineSize is the cache-line size that the objects Emit reads are padded to.
// Go allocates objects of a size that is a multiple of 64 (up to a point) at
// 64-byte-aligned addresses, so a padded object shares its cache line with no
// other object. Otherwise a small object that another core writes all the time
// (the harness's testing.PB in our parallel benchmark, or any counter in a
// program) can land next to one and make parallel Emits 2-5x slower through
// false sharing, though Emit itself writes nothing.
const lineSize = 64

// On adds fn to the end of event's listeners and returns its handle: Node's
// emitter.on. fn runs on the goroutine that calls Emit. On panics if fn is nil.
func (e *Emitter[T]) On(event string, fn func(T)) *Listener {
	return e.add(event, fn, false, false)
}

// Once adds fn to the end of event's listeners to run at most once: Node's
// emitter.once. It is removed before it is called (also when it panics), so it
// runs exactly once however many goroutines emit event at the same time.
func (e *Emitter[T]) Once(event string, fn func(T)) *Listener {
	return e.add(event, fn, true, false)
}

// Prepend adds fn to the front of event's listeners: Node's
// emitter.prependListener.
func (e *Emitter[T]) Prepend(event string, fn func(T)) *Listener {
	return e.add(event, fn, false, true)
}

// PrependOnce adds fn to the front of event's listeners to run at most once:
// Node's emitter.prependOnceListener.
func (e *Emitter[T]) PrependOnce(event string, fn func(T)) *Listener {
	return e.add(event, fn, true, true)
}

func (e *Emitter[T]) add(event string, fn func(T), once, prepend bool) *Listener {
	if fn == nil {
		panic("events: nil listener function")
	}
	h := &Listener{event: event, once: once}
	// Node emits 'newListener' before the listener is added.
	announce(e.changes.Load(), NewListener, h)
	r := record[T]{fn: fn, h: h, once: once}
	for {
		en := e.names.get(event)
		var old *list[T]
		if en != nil {
			old = en.list.Load()
		}
		if old == nil { // no entry, or a dead one on its way out of names
			if e.addFirst(event, r) {
				return h
			}
			continue
		}
		ls := old.with(r, prepend)
		limit := e.maxListeners()
		warn := limit > 0 && ls.len() > limit && !ls.warned
		ls.warned = ls.warned || warn
		if en.list.CompareAndSwap(old, ls) {
			if warn {
				e.warnLeak(event, ls.len(), limit)
			}
			return h
		}
	}
}

// addFirst gives event an entry whose list is r alone, unless event has an
// entry already (made by another goroutine since add looked), and reports
// whether it did.
func (e *Emitter[T]) addFirst(event string, r record[T]) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.names.get(event) != nil { // live, since mu is held
		return false
	}
	en := &entry[T]{name: event, seq: e.nextSeq(), isError: event == ErrorEvent}
	en.list.Store((*list[T])(nil).with(r, false))
	e.names.put(en)
	return true
}

// nextSeq numbers an event that gets its first listener.
func (e *Emitter[T]) nextSeq() uint64 {
	if e.seqs != nil {
		return e.seqs.Add(1)
	}
	return e.seq.Add(1)
}

// Off removes the registration l and reports whether it was still registered:
// Node's emitter.off (removeListener). An Emit already under way still calls
// l, as in Node. Off(nil) and a handle from another emitter return false.
func (e *Emitter[T]) Off(l *Listener) bool {
	if l == nil {
		return false
	}
	return e.remove(l)
}

// remove removes h and announces it; it reports whether h was registered.
func (e *Emitter[T]) remove(h *Listener) bool {
	for {
		// On(h) returned before remove began, so the entry found here is
		// the one h was added to, or a later one when h is gone already.
		en := e.names.get(h.event)
		if en == nil {
			return false
		}
		old := en.list.Load()
		if old == nil {
			return false
		}
		i := old.indexOf(h)
		if i < 0 {
			return false
		}
		var removed bool
		if old.len() == 1 {
			removed = e.removeLast(en, old)
		} else {
			removed = en.list.CompareAndSwap(old, old.without(i))
		}
		if removed {
			announce(e.changes.Load(), RemoveListener, h)
			return true
		}
	}
}

// removeLast ends the entry en, unless its list is no longer old, which has
// one listener, and reports whether it did.
func (e *Emitter[T]) removeLast(en *entry[T], old *list[T]) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !en.list.CompareAndSwap(old, nil) {
		return false
	}
	e.names.delete(en)
	return true
}

// RemoveAll removes every listener of the given events, or of every event
// when none is given: Node's emitter.removeAllListeners. An Emit already under
// way still calls them.
//
// When Changes has RemoveListener listeners, each removal is announced, in
// Node's order: event by event, newest listener first. RemoveAll() with no
// names then tears down the change listeners too, as Node does with its
// 'newListener' and 'removeListener' events: the NewListener listeners in
// their place among the events (in the order of EventNames), and the
// RemoveListener listeners last, newest first, each announced to those still
// registered. Listeners added while it runs are removed as well, unannounced,
// so RemoveAll() leaves e and its Changes emitter without change listeners.
// To clear only the change listeners, call e.Changes().RemoveAll with their
// names.
//
// A panic in a RemoveListener listener propagates and stops the removal, as
// Node's throw does, leaving the listeners not yet reached in place.
func (e *Emitter[T]) RemoveAll(events ...string) {
	c := e.changes.Load()
	own := c != nil && any(c) != any(e) // c is not e itself
	if len(events) > 0 {
		for _, event := range events {
			e.removeEvent(c, event)
		}
		return
	}
	if announcing(c) {
		keys := e.keys()
		if own {
			if en := c.names.get(NewListener); en != nil {
				keys = append(keys, key{NewListener, en.seq, true})
			}
		} else { // e is its own Changes emitter: RemoveListener goes last
			keys = slices.DeleteFunc(keys, func(k key) bool { return k.name == RemoveListener })
		}
		sortKeys(keys)
		for _, k := range keys {
			if k.changes {
				c.removeEvent(c, k.name)
			} else {
				e.removeEvent(c, k.name)
			}
		}
		c.removeEvent(c, RemoveListener)
	}
	e.mu.Lock()
	e.names.each(func(en *entry[T]) { en.list.Store(nil) })
	e.names.clear()
	e.mu.Unlock()
	if own {
		c.removeQuietly(NewListener, RemoveListener)
	}
}

// announcing reports whether removals are announced: whether c, e's Changes
// emitter or nil, has RemoveListener listeners (Node's test, made before each
// event).
func announcing(c *Emitter[Change]) bool {
	return c != nil && c.ListenerCount(RemoveListener) > 0
}

// removeEvent removes event's listeners, newest first and each announced on
// c if c has RemoveListener listeners, or else at once.
func (e *Emitter[T]) removeEvent(c *Emitter[Change], event string) {
	if !announcing(c) {
		e.removeQuietly(event)
		return
	}
	ls := e.Listeners(event)
	for i := len(ls) - 1; i >= 0; i-- {
		e.Off(ls[i])
	}
}

// removeQuietly removes the listeners of events without announcing it.
func (e *Emitter[T]) removeQuietly(events ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, event := range events {
		if en := e.names.get(event); en != nil {
			en.list.Store(nil)
			e.names.delete(en)
		}
	}
}

// A key is an event name with its registration order, for RemoveAll and
// EventNames; changes marks a name of the Changes emitter.
type key struct {
	name    string
	seq     uint64
	changes bool
}

// sortKeys puts keys in Node's order of an emitter's events: the order they
// got their first listener, except that ErrorMonitor, which stands for
// Node's errorMonitor Symbol, comes after every string name, as Node lists
// Symbol keys after string ones.
func sortKeys(keys []key) {
	slices.SortFunc(keys, func(a, b key) int {
		if am, bm := a.name == ErrorMonitor, b.name == ErrorMonitor; am != bm {
			if am {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// keys returns e's event names with their registration order, unsorted.
func (e *Emitter[T]) keys() []key {
	e.mu.Lock()
	defer e.mu.Unlock()
	var keys []key
	e.names.each(func(en *entry[T]) {
		keys = append(keys, key{en.name, en.seq, false})
	})
	return keys
}

// snapshot returns the listeners of event at this instant, or nil.
func (e *Emitter[T]) snapshot(event string) *list[T] {
	if en := e.names.get(event); en != nil {
		return en.list.Load()
	}
	return nil
}

// ListenerCount returns the number of listeners registered for event: Node's
// emitter.listenerCount.
func (e *Emitter[T]) ListenerCount(event string) int {
	if ls := e.snapshot(event); ls != nil {
		return ls.len()
	}
	return 0
}

// Listeners returns the handles of event's listeners in the order Emit calls
// them: Node's emitter.listeners, with handles for functions.
func (e *Emitter[T]) Listeners(event string) []*Listener {
	ls := e.snapshot(event)
	if ls == nil {
		return []*Listener{}
	}
	hs := make([]*Listener, 0, ls.len())
	for _, rs := range ls.parts() {
		for i := range rs {
			hs = append(hs, rs[i].h)
		}
	}
	return hs
}

// EventNames returns the events that have at least one listener, in the
// order they got their first listener (an event whose listeners were all
// removed counts from when it got one again), ErrorMonitor last. Node orders
// by JavaScript property order instead, which also puts its errorMonitor
// Symbol last but integer-like names first.
func (e *Emitter[T]) EventNames() []string {
	keys := e.keys()
	sortKeys(keys)
	out := make([]string, len(keys))
	for i := range keys {
		out[i] = keys[i].name
	}
	return out
}
