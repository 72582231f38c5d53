// Package events is Node's EventEmitter for Go: an [Emitter] calls the
// listeners of a named event synchronously, in registration order, each time
// the event is emitted.
//
// It keeps Node's observable behaviour wherever Go allows:
//
//   - Listeners run on the emitting goroutine, in order; [Emitter.Prepend]
//     puts one first; the same function registered twice runs twice.
//   - An Emit calls exactly the listeners registered when it began (the
//     snapshot rule): one added during it does not run, one removed still does.
//   - A once listener is removed before it is called, so it runs exactly once,
//     also across concurrent Emits on many goroutines and when it panics.
//   - Listeners may call back into the emitter (On, Off, Emit, RemoveAll): no
//     lock is held while they run.
//   - A panic in a listener propagates out of Emit, as Node rethrows.
//   - Emitting [ErrorEvent] with no listener panics with an [*UnhandledError];
//     [ErrorMonitor] listeners see every error first.
//   - More than [DefaultMaxListeners] listeners on one event logs Node's
//     "possible EventEmitter memory leak" warning through log/slog.
//   - [Once], [OnceChan] and [On] are the context-aware forms of Node's
//     events.once and events.on: they register when called (OnceChan and On
//     before they return, so an Emit that follows on the same goroutine is
//     caught), end with the emitter's "error" (as an error value, which
//     handles it), and remove their listeners when they end, also when ctx
//     ends. [Emitter.Changes] carries 'newListener' and 'removeListener'.
//   - [Emitter.RemoveAll] with no names empties the emitter as Node's
//     removeAllListeners() does: every event, then the change listeners
//     themselves, each removal announced while 'removeListener' listeners
//     remain. The Changes emitter announces its own changes and shares the
//     emitter's listener limit, as Node's two change events do.
//
// Where Go differs: Node removes a listener by its function, nodekit by the
// [*Listener] handle registration returns (Go functions are not comparable);
// one Emitter has one payload type T, so an Emit passes one value, and the
// change events live on their own emitter; event names are strings, and
// [Emitter.EventNames] lists them in first-registration order, ErrorMonitor
// last.
//
// Where Node returns a promise or an async iterator, nodekit chooses Go's
// forms. Once blocks; OnceChan returns a channel that receives one [Result],
// like singleflight's DoChan, so that it can be registered first, awaited
// later, and used in a select. On returns an iter.Seq2[T, error] whose last
// pair carries the error that ended it (an "error" event or ctx.Err()), as
// Node's loop throws, so a for-range loop reads like Node's for await. Its
// buffer is a ring that grows and shrinks with the backlog, so a slow loop
// holds what it has not read yet, never what went through. The sequence is
// single-use, as Node's iterator is: a second loop after a break yields only
// what was already buffered.
//
// Emit is built for speed: it takes no lock and writes no shared memory, so
// emits on many goroutines scale with cores and cost no allocation.
// Registration pays instead, with a new version of the event's listener list,
// though it takes no lock either; the common pair of adding a listener and
// removing it again allocates only its handle and one cache line.
package events
