package events_test

// This file holds a tiny scripting language for emitter scenarios, shared by
// the model-based test (real Emitter against a plain model) and the
// differential test (real Emitter against Node, which runs the same scripts
// with testdata/scenario.js). A script is a list of steps; a listener logs
// its call and then performs its action, which may act on the emitter.
//
// The events "newListener" and "removeListener" are Node's: in Go their
// listeners go on the emitter's Changes emitter, and they are called with
// the changed event and listener, logged as "EVENT/L<id>".

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/nodekit/nodekit/events"
	"pgregory.net/rapid"
)

// A step is one top-level operation of a scenario.
type step struct {
	Op    string `json:"op"`              // on once prepend prependOnce off emit removeAll count names setMax
	Event string `json:"event,omitempty"` // "monitor" stands for events.ErrorMonitor; removeAll: "" is all; see changeEvent
	ID    int    `json:"id,omitempty"`    // the listener registered or removed
	Act   action `json:"act"`             // on*: what the listener does when called
	N     int    `json:"n,omitempty"`     // emit: payload; setMax: limit
}

// An action is what a listener does after logging its call.
type action struct {
	Kind  string `json:"kind"`            // none on off emit removeAll throw
	Event string `json:"event,omitempty"` // on, emit, removeAll
	ID    int    `json:"id,omitempty"`    // on: new listener; off: target
}

// maxDepth bounds nested actions, so that a listener that emits its own
// event, or a change listener that adds or removes listeners, does not
// recurse forever (in either implementation).
const maxDepth = 3

// changeEvent reports whether a scenario's event is one of Node's change
// events, whose listeners the Go emitter keeps on its Changes emitter.
func changeEvent(event string) bool {
	return event == events.NewListener || event == events.RemoveListener
}

// An arg is what a listener is called with: an emit's payload, or for a
// change listener the change, as "EVENT/L<id>".
type arg struct {
	v      int
	change string
}

func (a arg) String() string {
	if a.change != "" {
		return a.change
	}
	return fmt.Sprint(a.v)
}

// subject is what a scenario runs against: the real Emitter or the model.
// Listeners are named by small integers; a name registered again refers to
// its newest registration.
type subject interface {
	add(event string, id int, once, prepend bool, fn func(arg))
	off(id int) bool
	emit(event string, v int) bool
	removeAll(events ...string)
	count(event string) int
	names() []string
	setMax(n int)
	takeWarnings() []string
}

// thrown is the panic value of a listener whose action is "throw".
type thrown int

// unhandled is what both subjects' unhandled-error panics are reduced to.
type unhandled int

// runner executes steps against a subject and records the trace.
type runner struct {
	s     subject
	trace []string
	depth int // nested actions
}

func (r *runner) log(format string, args ...any) {
	r.trace = append(r.trace, fmt.Sprintf(format, args...))
}

// run executes one top-level step, turning a panic into a trace line.
func (r *runner) run(st step) {
	defer func() {
		switch p := recover().(type) {
		case nil:
		case thrown:
			r.log("threw L%d", int(p))
		case unhandled:
			r.log("unhandled %d", int(p))
		default:
			panic(p)
		}
	}()
	switch st.Op {
	case "on", "once", "prepend", "prependOnce":
		once := st.Op == "once" || st.Op == "prependOnce"
		prepend := strings.HasPrefix(st.Op, "prepend")
		r.s.add(st.Event, st.ID, once, prepend, r.listener(st.ID, st.Act))
	case "off":
		r.log("off L%d %v", st.ID, r.s.off(st.ID))
	case "emit":
		r.emit(st.Event, st.N)
	case "removeAll":
		if st.Event == "" {
			r.s.removeAll()
		} else {
			r.s.removeAll(st.Event)
		}
	case "count":
		r.log("count %s %d", st.Event, r.s.count(st.Event))
	case "names":
		r.log("names %s", strings.Join(r.s.names(), ","))
	case "setMax":
		r.s.setMax(st.N)
	default:
		panic("unknown op " + st.Op)
	}
}

func (r *runner) emit(event string, v int) {
	r.log("emit %s %d", event, v)
	r.log("emitted %s %d %v", event, v, r.s.emit(event, v))
}

// listener returns the function registered as listener id.
func (r *runner) listener(id int, act action) func(arg) {
	return func(a arg) {
		r.log("L%d %v", id, a)
		switch act.Kind {
		case "none":
			return
		case "throw":
			panic(thrown(id))
		}
		// The other actions may call listeners again, this one too.
		if r.depth == maxDepth {
			return
		}
		r.depth++
		defer func() { r.depth-- }()
		switch act.Kind {
		case "on":
			r.s.add(act.Event, act.ID, false, false, r.listener(act.ID, action{Kind: "none"}))
		case "off":
			r.log("off L%d %v", act.ID, r.s.off(act.ID))
		case "emit":
			r.emit(act.Event, a.v+100)
		case "removeAll":
			r.s.removeAll(act.Event)
		default:
			panic("unknown action " + act.Kind)
		}
	}
}

// finish ends a scenario: warnings come last, as Node delivers them on a tick.
func (r *runner) finish() []string {
	for _, w := range r.s.takeWarnings() {
		r.log("%s", w)
	}
	return r.trace
}

// eventName maps a scenario's event to the emitter's.
func eventName(event string) string {
	if event == "monitor" {
		return events.ErrorMonitor
	}
	return event
}

// scenarioName maps an emitter's event back to the scenario's.
func scenarioName(event string) string {
	if event == events.ErrorMonitor {
		return "monitor"
	}
	return event
}

// real runs scenarios against events.Emitter[int].
type real struct {
	e        events.Emitter[int]
	handles  map[int]*events.Listener
	ids      map[*events.Listener]int
	gen      map[int]int // registrations begun per id: see add
	adding   []int       // the ids being added, innermost last: see add
	warnings *warningLog
}

func newReal() *real {
	r := &real{
		handles:  map[int]*events.Listener{},
		ids:      map[*events.Listener]int{},
		gen:      map[int]int{},
		warnings: &warningLog{},
	}
	r.e.Logger = slog.New(r.warnings)
	return r
}

func (r *real) add(event string, id int, once, prepend bool, fn func(arg)) {
	// NewListener is announced before the handle exists: the listener
	// being announced is the innermost one being added.
	r.adding = append(r.adding, id)
	defer func() { r.adding = r.adding[:len(r.adding)-1] }()
	// As in Node's script, id names the newest listener whose registration
	// began: even if a NewListener listener panics and it is never added,
	// and not if a NewListener listener registers id again meanwhile.
	delete(r.handles, id)
	r.gen[id]++
	gen := r.gen[id]
	var h *events.Listener
	if changeEvent(event) {
		h = register(r.e.Changes(), event, once, prepend, func(c events.Change) {
			who, ok := r.ids[c.Listener]
			if !ok {
				who = r.adding[len(r.adding)-1]
			}
			fn(arg{change: fmt.Sprintf("%s/L%d", scenarioName(c.Event), who)})
		})
	} else {
		h = register(&r.e, eventName(event), once, prepend, func(v int) { fn(arg{v: v}) })
	}
	if r.gen[id] == gen {
		r.handles[id] = h
	}
	r.ids[h] = id
}

// register adds fn to e by the method that once and prepend name.
func register[T any](e *events.Emitter[T], event string, once, prepend bool, fn func(T)) *events.Listener {
	switch {
	case once && prepend:
		return e.PrependOnce(event, fn)
	case once:
		return e.Once(event, fn)
	case prepend:
		return e.Prepend(event, fn)
	default:
		return e.On(event, fn)
	}
}

func (r *real) off(id int) bool {
	h := r.handles[id]
	if h != nil && changeEvent(h.Event()) {
		return r.e.Changes().Off(h)
	}
	return r.e.Off(h)
}

func (r *real) emit(event string, v int) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if u, isU := p.(*events.UnhandledError); isU {
				panic(unhandled(u.Value.(int)))
			}
			panic(p)
		}
	}()
	return r.e.Emit(eventName(event), v)
}

func (r *real) removeAll(evs ...string) {
	if len(evs) == 0 {
		r.e.RemoveAll()
		return
	}
	for _, ev := range evs {
		if changeEvent(ev) {
			r.e.Changes().RemoveAll(ev)
		} else {
			r.e.RemoveAll(eventName(ev))
		}
	}
}

func (r *real) count(event string) int {
	if changeEvent(event) {
		return r.e.Changes().ListenerCount(event)
	}
	return r.e.ListenerCount(eventName(event))
}

func (r *real) names() []string {
	names := normalizeNames(r.e.EventNames())
	for _, ev := range []string{events.NewListener, events.RemoveListener} {
		if r.e.Changes().ListenerCount(ev) > 0 {
			names = append(names, ev)
		}
	}
	return names
}

// normalizeNames puts the error monitor last, where Node lists a Symbol key.
func normalizeNames(in []string) []string {
	var out []string
	monitor := false
	for _, n := range in {
		if n == events.ErrorMonitor {
			monitor = true
			continue
		}
		out = append(out, n)
	}
	if monitor {
		out = append(out, "monitor")
	}
	return out
}

func (r *real) setMax(n int) { r.e.SetMaxListeners(n) }

func (r *real) takeWarnings() []string { return r.warnings.take() }

// warningLog is a slog.Handler that keeps max-listeners warnings as
// "warn EVENT COUNT" lines.
type warningLog struct {
	lines []string
}

func (w *warningLog) Enabled(context.Context, slog.Level) bool { return true }
func (w *warningLog) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *warningLog) WithGroup(string) slog.Handler            { return w }

func (w *warningLog) Handle(_ context.Context, rec slog.Record) error {
	var event string
	var count int64
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "event":
			event = scenarioName(a.Value.String())
		case "listeners":
			count = a.Value.Int64()
		}
		return true
	})
	w.lines = append(w.lines, fmt.Sprintf("warn %s %d", event, count))
	return nil
}

func (w *warningLog) take() []string {
	lines := w.lines
	w.lines = nil
	return lines
}

// model is the reference: Node's EventEmitter written as plainly as
// possible, one list of listeners per event (the change events among them),
// copied before each emit, and removeAllListeners as lib/events.js has it.
type model struct {
	lists   map[string][]*modelListener
	order   []string // events with listeners, in first-registration order
	handles map[int]*modelListener
	max     int // 0: unlimited
	warned  map[string]bool
	warns   []string
}

type modelListener struct {
	id    int
	once  bool
	fired bool
	fn    func(arg)
}

func newModel() *model {
	return &model{
		lists:   map[string][]*modelListener{},
		handles: map[int]*modelListener{},
		max:     events.DefaultMaxListeners,
		warned:  map[string]bool{},
	}
}

func (m *model) add(event string, id int, once, prepend bool, fn func(arg)) {
	l := &modelListener{id: id, once: once, fn: fn}
	m.handles[id] = l
	m.announce(events.NewListener, event, l) // before it is added
	list := m.lists[event]
	if len(list) == 0 {
		m.order = append(m.order, event)
	}
	if prepend {
		list = append([]*modelListener{l}, list...)
	} else {
		list = append(list, l)
	}
	m.lists[event] = list
	if m.max > 0 && len(list) > m.max && !m.warned[event] {
		m.warned[event] = true
		m.warns = append(m.warns, fmt.Sprintf("warn %s %d", event, len(list)))
	}
}

// announce calls the listeners of the change event kind, if any.
func (m *model) announce(kind, event string, l *modelListener) {
	if len(m.lists[kind]) > 0 {
		m.callAll(m.lists[kind], arg{change: fmt.Sprintf("%s/L%d", event, l.id)})
	}
}

// remove removes l and announces it; it reports whether l was registered.
func (m *model) remove(l *modelListener) bool {
	for event, list := range m.lists {
		if i := slices.Index(list, l); i >= 0 {
			list = slices.Delete(slices.Clone(list), i, i+1)
			m.lists[event] = list
			if len(list) <= 1 {
				m.warned[event] = false
			}
			if len(list) == 0 {
				m.drop(event)
			}
			m.announce(events.RemoveListener, event, l)
			return true
		}
	}
	return false
}

// drop forgets event's listeners without announcing it.
func (m *model) drop(event string) {
	delete(m.lists, event)
	m.warned[event] = false
	m.order = slices.DeleteFunc(m.order, func(n string) bool { return n == event })
}

func (m *model) off(id int) bool {
	l, ok := m.handles[id]
	return ok && m.remove(l)
}

func (m *model) emit(event string, v int) bool {
	if event == "error" {
		m.callAll(m.lists["monitor"], arg{v: v})
		if len(m.lists["error"]) == 0 {
			panic(unhandled(v))
		}
	}
	return m.callAll(m.lists[event], arg{v: v})
}

func (m *model) callAll(list []*modelListener, a arg) bool {
	snapshot := slices.Clone(list)
	for _, l := range snapshot {
		if l.once {
			if l.fired {
				continue
			}
			l.fired = true
			m.remove(l)
		}
		l.fn(a)
	}
	return len(snapshot) > 0
}

// removeAll is lib/events.js's removeAllListeners.
func (m *model) removeAll(evs ...string) {
	quiet := len(m.lists[events.RemoveListener]) == 0
	switch {
	case len(evs) == 0 && quiet:
		for _, event := range slices.Clone(m.order) {
			m.drop(event)
		}
	case len(evs) == 0:
		// Own keys: strings in order, then the Symbol (errorMonitor).
		keys := slices.DeleteFunc(slices.Clone(m.order), func(n string) bool { return n == "monitor" })
		if len(m.lists["monitor"]) > 0 {
			keys = append(keys, "monitor")
		}
		for _, event := range keys {
			if event != events.RemoveListener {
				m.removeAll(event)
			}
		}
		m.removeAll(events.RemoveListener)
		for _, event := range slices.Clone(m.order) {
			m.drop(event)
		}
	case quiet:
		for _, event := range evs {
			m.drop(event)
		}
	default:
		for _, event := range evs {
			list := slices.Clone(m.lists[event])
			for i := len(list) - 1; i >= 0; i-- {
				m.remove(list[i])
			}
		}
	}
}

func (m *model) count(event string) int { return len(m.lists[event]) }

func (m *model) names() []string {
	var out []string
	for _, n := range m.order {
		if n != "monitor" && !changeEvent(n) {
			out = append(out, n)
		}
	}
	for _, n := range []string{"monitor", events.NewListener, events.RemoveListener} {
		if len(m.lists[n]) > 0 {
			out = append(out, n)
		}
	}
	return out
}

func (m *model) setMax(n int) { m.max = n }

func (m *model) takeWarnings() []string {
	w := m.warns
	m.warns = nil
	return w
}

// Generators of scenario steps.

var (
	genEvent = rapid.SampledFrom([]string{"a", "b", "c", "error", "monitor"})
	// genListenEvent is what listeners are added to, the change events too.
	genListenEvent = rapid.SampledFrom([]string{"a", "b", "c", "error", "monitor", "newListener", "removeListener"})
	genID          = rapid.IntRange(1, 12)
	genPayload     = rapid.IntRange(0, 99)
)

var genAction = genActionOf([]string{"none", "none", "none", "on", "off", "emit", "removeAll", "throw"})

// genActionOf draws an action of one of the kinds given.
func genActionOf(kinds []string) *rapid.Generator[action] {
	return rapid.Custom(func(t *rapid.T) action {
		return drawAction(t, rapid.SampledFrom(kinds).Draw(t, "kind"))
	})
}

func drawAction(t *rapid.T, kind string) action {
	switch kind {
	case "on":
		return action{Kind: kind, Event: genListenEvent.Draw(t, "event"), ID: genID.Draw(t, "id")}
	case "off":
		return action{Kind: kind, ID: genID.Draw(t, "id")}
	case "emit":
		return action{Kind: kind, Event: genEvent.Draw(t, "event")}
	case "removeAll":
		return action{Kind: kind, Event: genListenEvent.Draw(t, "event")}
	default:
		return action{Kind: kind}
	}
}

// genStep draws one step; the frequencies favour registration and emits.
var genStep = rapid.Custom(func(t *rapid.T) step {
	ops := []string{"on", "on", "on", "once", "once", "prepend", "prependOnce", "off", "off",
		"emit", "emit", "emit", "emit", "removeAll", "count", "names", "setMax"}
	switch op := rapid.SampledFrom(ops).Draw(t, "op"); op {
	case "on", "once", "prepend", "prependOnce":
		return step{Op: op, Event: genListenEvent.Draw(t, "event"), ID: genID.Draw(t, "id"), Act: genAction.Draw(t, "act")}
	case "off":
		return step{Op: op, ID: genID.Draw(t, "id"), Act: action{Kind: "none"}}
	case "emit":
		return step{Op: op, Event: genEvent.Draw(t, "event"), N: genPayload.Draw(t, "n"), Act: action{Kind: "none"}}
	case "removeAll":
		ev := rapid.SampledFrom([]string{"", "", "a", "b", "error", "monitor", "newListener", "removeListener"}).Draw(t, "event")
		return step{Op: op, Event: ev, Act: action{Kind: "none"}}
	case "count":
		return step{Op: op, Event: genListenEvent.Draw(t, "event"), Act: action{Kind: "none"}}
	case "setMax":
		return step{Op: op, N: rapid.IntRange(0, 3).Draw(t, "n"), Act: action{Kind: "none"}}
	default:
		return step{Op: op, Act: action{Kind: "none"}}
	}
})

var genScenario = rapid.SliceOfN(genStep, 15, 60)
