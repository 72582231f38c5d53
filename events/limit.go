package events

import (
	"fmt"
	"log/slog"
)

// DefaultMaxListeners is the number of listeners an event may have before the
// emitter logs a possible-leak warning, unless SetMaxListeners says otherwise:
// Node's events.defaultMaxListeners, which nodekit keeps constant.
const DefaultMaxListeners = 10

// SetMaxListeners sets how many listeners each event may have before e logs a
// warning; 0 means unlimited, as in Node. Going over the limit is allowed: the
// warning names a likely leak. It is logged once per event, through Logger,
// and again only after the event is back to one listener (Node's rule).
// The limit covers the emitter that Changes returns too, as Node's covers its
// 'newListener' and 'removeListener' events. SetMaxListeners panics if n is
// negative.
func (e *Emitter[T]) SetMaxListeners(n int) {
	if n < 0 {
		panic(fmt.Sprintf("events: SetMaxListeners(%d): negative limit", n))
	}
	limit := int64(n)
	if n == 0 {
		limit = -1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limit.Store(limit)
	// Lock order: an emitter before its Changes emitter.
	if c := e.changes.Load(); c != nil && any(c) != any(e) {
		c.mu.Lock()
		c.limit.Store(limit)
		c.mu.Unlock()
	}
}

// MaxListeners returns the current limit: Node's emitter.getMaxListeners.
// 0 means unlimited.
func (e *Emitter[T]) MaxListeners() int {
	return max(e.maxListeners(), 0)
}

// maxListeners returns the effective limit, ≤ 0 meaning none.
func (e *Emitter[T]) maxListeners() int {
	limit := e.limit.Load()
	if limit == 0 {
		return DefaultMaxListeners
	}
	return int(limit)
}

// warnLeak logs Node's MaxListenersExceededWarning.
func (e *Emitter[T]) warnLeak(event string, count, limit int) {
	logger := e.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Warn(fmt.Sprintf("Possible EventEmitter memory leak detected. "+
		"%d %s listeners added to %T. MaxListeners is %d. "+
		"Use SetMaxListeners to increase limit", count, event, e, limit),
		slog.String("event", event), slog.Int("listeners", count), slog.Int("max", limit))
}
