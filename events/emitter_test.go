package events_test

// Behaviours of Node's test/parallel/test-event-emitter-*.js, as Go tests.

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/events"
	"github.com/nodekit/nodekit/internal/memtest"
)

// sameHandle compares listener handles by identity.
var sameHandle = cmp.Comparer(func(a, b *events.Listener) bool { return a == b })

// calls records listener calls by name.
type calls []string

func (c *calls) fn(name string) func(string) {
	return func(string) { *c = append(*c, name) }
}

// test-event-emitter-modify-in-emit.js
func TestModifyInEmit(t *testing.T) {
	var e events.Emitter[string]
	var got calls
	var h1, h2, h3 *events.Listener
	cb2 := func(string) { got = append(got, "callback2"); e.Off(h2) }
	cb3 := func(string) { got = append(got, "callback3"); e.Off(h3) }
	cb1 := func(string) {
		got = append(got, "callback1")
		h2 = e.On("foo", cb2)
		h3 = e.On("foo", cb3)
		e.Off(h1)
	}
	h1 = e.On("foo", cb1)
	if n := e.ListenerCount("foo"); n != 1 {
		t.Fatalf("ListenerCount = %d, want 1", n)
	}

	e.Emit("foo", "")
	if n := e.ListenerCount("foo"); n != 2 {
		t.Fatalf("after first Emit: ListenerCount = %d, want 2 (added during the emit, not run in it)", n)
	}
	if diff := cmp.Diff(calls{"callback1"}, got); diff != "" {
		t.Fatalf("first Emit (-want +got):\n%s", diff)
	}

	e.Emit("foo", "")
	if n := e.ListenerCount("foo"); n != 0 {
		t.Fatalf("after second Emit: ListenerCount = %d, want 0", n)
	}
	want := calls{"callback1", "callback2", "callback3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("second Emit (-want +got):\n%s", diff)
	}

	if e.Emit("foo", "") {
		t.Fatal("third Emit = true, want false: no listeners are left")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("third Emit called something (-want +got):\n%s", diff)
	}

	e.On("foo", cb1)
	e.On("foo", cb2)
	e.RemoveAll("foo")
	if n := e.ListenerCount("foo"); n != 0 {
		t.Fatalf("after RemoveAll: ListenerCount = %d, want 0", n)
	}

	// Removing listeners while in emit still lets the emit reach all of them.
	got = nil
	h2 = e.On("foo", cb2)
	h3 = e.On("foo", cb3)
	e.Emit("foo", "")
	if diff := cmp.Diff(calls{"callback2", "callback3"}, got); diff != "" {
		t.Fatalf("emit with self-removing listeners (-want +got):\n%s", diff)
	}
	if n := e.ListenerCount("foo"); n != 0 {
		t.Fatalf("ListenerCount = %d, want 0", n)
	}
}

// test-event-emitter-remove-listeners.js (the parts without 'removeListener',
// which are in changes_test.go).
func TestRemoveListeners(t *testing.T) {
	t.Run("remove one of two", func(t *testing.T) {
		var e events.Emitter[string]
		var got calls
		l1 := e.On("hello", got.fn("l1"))
		l2 := e.On("hello", got.fn("l2"))
		if !e.Off(l1) {
			t.Fatal("Off(l1) = false, want true")
		}
		if diff := cmp.Diff([]*events.Listener{l2}, e.Listeners("hello"), sameHandle); diff != "" {
			t.Fatalf("Listeners after Off(l1) (-want +got):\n%s", diff)
		}
		e.Emit("hello", "")
		if diff := cmp.Diff(calls{"l2"}, got); diff != "" {
			t.Fatalf("calls (-want +got):\n%s", diff)
		}
	})
	t.Run("unknown handle is a no-op", func(t *testing.T) {
		var e, other events.Emitter[string]
		l1 := e.On("hello", func(string) {})
		foreign := other.On("hello", func(string) {})
		if e.Off(foreign) || e.Off(nil) {
			t.Fatal("Off(handle of another emitter or nil) = true, want false")
		}
		if diff := cmp.Diff([]*events.Listener{l1}, e.Listeners("hello"), sameHandle); diff != "" {
			t.Fatalf("Listeners (-want +got):\n%s", diff)
		}
		if !e.Off(l1) || e.Off(l1) {
			t.Fatal("Off(l1) twice = not (true, false)")
		}
	})
	t.Run("removed during emit still runs in it", func(t *testing.T) {
		var e events.Emitter[string]
		n3, n4 := 0, 0
		var l4 *events.Listener
		e.On("hello", func(string) { n3++; e.Off(l4) })
		l4 = e.On("hello", func(string) { n4++ })
		e.Emit("hello", "")
		e.Emit("hello", "")
		if n3 != 2 || n4 != 1 {
			t.Fatalf("calls = (%d, %d), want (2, 1): the first emit's snapshot had both", n3, n4)
		}
	})
}

// test-event-emitter-add-listeners.js and the duplicate rule.
func TestAddListeners(t *testing.T) {
	var e events.Emitter[string]
	var got []string
	fn := func(v string) { got = append(got, v) }
	e.On("hello", fn)
	e.On("hello", fn)
	if !e.Emit("hello", "a") {
		t.Fatal(`Emit("hello") = false, want true`)
	}
	if diff := cmp.Diff([]string{"a", "a"}, got); diff != "" {
		t.Fatalf("the same function registered twice must run twice (-want +got):\n%s", diff)
	}
	if e.Emit("nobody", "x") {
		t.Fatal(`Emit("nobody") = true, want false`)
	}
}

func TestNilListenerPanics(t *testing.T) {
	var e events.Emitter[int]
	for name, add := range map[string]func(string, func(int)) *events.Listener{
		"On": e.On, "Once": e.Once, "Prepend": e.Prepend, "PrependOnce": e.PrependOnce,
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != "events: nil listener function" {
					t.Fatalf("%s(nil) panicked with %v, want the nil-listener message", name, p)
				}
			}()
			add("foo", nil)
		})
	}
}

// test-event-emitter-once.js
func TestOnce(t *testing.T) {
	t.Run("runs once", func(t *testing.T) {
		var e events.Emitter[string]
		n := 0
		e.Once("hello", func(string) { n++ })
		for range 4 {
			e.Emit("hello", "a")
		}
		if n != 1 {
			t.Fatalf("once listener ran %d times, want 1", n)
		}
	})
	t.Run("removed before emit", func(t *testing.T) {
		var e events.Emitter[string]
		l := e.Once("foo", func(string) { t.Fatal("once->foo should not be emitted") })
		if !e.Off(l) {
			t.Fatal("Off(once listener) = false, want true")
		}
		e.Emit("foo", "")
	})
	t.Run("reentrant emit does not rerun it", func(t *testing.T) {
		var e events.Emitter[string]
		first, second := 0, 0
		e.Once("e", func(string) { first++; e.Emit("e", "") })
		e.Once("e", func(string) { second++ })
		e.Emit("e", "")
		if first != 1 || second != 1 {
			t.Fatalf("calls = (%d, %d), want (1, 1)", first, second)
		}
	})
	t.Run("removed even when it panics", func(t *testing.T) {
		var e events.Emitter[string]
		n := 0
		e.Once("boom", func(string) { n++; panic("kaboom") })
		func() {
			defer func() {
				if p := recover(); p != "kaboom" {
					t.Fatalf("Emit panicked with %v, want kaboom", p)
				}
			}()
			e.Emit("boom", "")
		}()
		if e.Emit("boom", "") || n != 1 || e.ListenerCount("boom") != 0 {
			t.Fatalf("after the panic: calls = %d, count = %d; want 1, 0", n, e.ListenerCount("boom"))
		}
	})
	t.Run("handle reports once", func(t *testing.T) {
		var e events.Emitter[string]
		if l := e.Once("x", func(string) {}); !l.Once() || l.Event() != "x" {
			t.Fatalf("Once handle: Once() = %v, Event() = %q", l.Once(), l.Event())
		}
		if l := e.On("y", func(string) {}); l.Once() || l.Event() != "y" {
			t.Fatalf("On handle: Once() = %v, Event() = %q", l.Once(), l.Event())
		}
	})
}

// test-event-emitter-prepend.js
func TestPrepend(t *testing.T) {
	var e events.Emitter[string]
	var got calls
	e.On("foo", got.fn("last"))
	e.Prepend("foo", got.fn("second"))
	e.PrependOnce("foo", got.fn("first"))
	e.Emit("foo", "")
	e.Emit("foo", "")
	want := calls{"first", "second", "last", "second", "last"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
}

// test-event-emitter-remove-all-listeners.js (without 'removeListener').
func TestRemoveAll(t *testing.T) {
	t.Run("named events only", func(t *testing.T) {
		var e events.Emitter[string]
		foo := e.On("foo", func(string) {})
		e.On("bar", func(string) {})
		e.On("baz", func(string) {})
		e.On("baz", func(string) {})
		e.RemoveAll("bar", "baz")
		if diff := cmp.Diff([]*events.Listener{foo}, e.Listeners("foo"), sameHandle); diff != "" {
			t.Fatalf("foo's listeners (-want +got):\n%s", diff)
		}
		if n := e.ListenerCount("bar") + e.ListenerCount("baz"); n != 0 {
			t.Fatalf("bar and baz have %d listeners, want 0", n)
		}
		if diff := cmp.Diff([]string{"foo"}, e.EventNames()); diff != "" {
			t.Fatalf("EventNames (-want +got):\n%s", diff)
		}
	})
	t.Run("all events", func(t *testing.T) {
		var e events.Emitter[string]
		e.On("foo", func(string) {})
		e.On("bar", func(string) {})
		e.RemoveAll()
		if n := len(e.EventNames()); n != 0 {
			t.Fatalf("EventNames has %d names, want 0", n)
		}
	})
	t.Run("absent event and empty emitter", func(t *testing.T) {
		var e events.Emitter[string]
		e.RemoveAll()
		e.RemoveAll("foo")
		e.On("bar", func(string) {})
		e.RemoveAll("foo")
		if e.ListenerCount("bar") != 1 {
			t.Fatal("RemoveAll(foo) removed bar's listener")
		}
	})
	t.Run("during emit the snapshot still runs", func(t *testing.T) {
		var e events.Emitter[string]
		var got calls
		e.On("x", func(string) { got = append(got, "first"); e.RemoveAll() })
		e.On("x", got.fn("second"))
		e.Emit("x", "")
		e.Emit("x", "")
		if diff := cmp.Diff(calls{"first", "second"}, got); diff != "" {
			t.Fatalf("calls (-want +got):\n%s", diff)
		}
	})
	t.Run("handles are unregistered", func(t *testing.T) {
		var e events.Emitter[string]
		l := e.On("x", func(string) {})
		e.RemoveAll("x")
		if e.Off(l) {
			t.Fatal("Off after RemoveAll = true, want false")
		}
	})
}

// test-event-emitter-listener-count.js
func TestListenerCount(t *testing.T) {
	var e events.Emitter[string]
	e.On("foo", func(string) {})
	e.On("foo", func(string) {})
	e.On("baz", func(string) {})
	e.On("123", func(string) {})
	for event, want := range map[string]int{"foo": 2, "bar": 0, "baz": 1, "123": 1} {
		if got := e.ListenerCount(event); got != want {
			t.Errorf("ListenerCount(%q) = %d, want %d", event, got, want)
		}
	}
}

func TestEventNamesOrder(t *testing.T) {
	var e events.Emitter[int]
	a := e.On("a", func(int) {})
	e.On("b", func(int) {})
	e.On("123", func(int) {}) // Node would list this first; nodekit keeps registration order
	e.On("a", func(int) {})
	if diff := cmp.Diff([]string{"a", "b", "123"}, e.EventNames()); diff != "" {
		t.Fatalf("EventNames (-want +got):\n%s", diff)
	}
	// An event that loses all its listeners and gets one again moves last.
	e.RemoveAll("a")
	e.On("a", func(int) {})
	if diff := cmp.Diff([]string{"b", "123", "a"}, e.EventNames()); diff != "" {
		t.Fatalf("EventNames after re-adding a (-want +got):\n%s", diff)
	}
	if e.Off(a) {
		t.Fatal("Off of a handle removed by RemoveAll = true")
	}
	// ErrorMonitor stands for Node's Symbol, listed after the strings.
	e.On(events.ErrorMonitor, func(int) {})
	e.On("c", func(int) {})
	if diff := cmp.Diff([]string{"b", "123", "a", "c", events.ErrorMonitor}, e.EventNames()); diff != "" {
		t.Fatalf("EventNames with the error monitor (-want +got):\n%s", diff)
	}
}

func TestZeroEmitter(t *testing.T) {
	var e events.Emitter[struct{}]
	if e.Emit("x", struct{}{}) || e.ListenerCount("x") != 0 || len(e.EventNames()) != 0 ||
		len(e.Listeners("x")) != 0 || e.MaxListeners() != events.DefaultMaxListeners {
		t.Fatal("the zero Emitter is not empty and ready")
	}
}

// Many names exercise the slots of names and the map behind them through the
// public API.
func TestManyEventNames(t *testing.T) {
	var e events.Emitter[int]
	const n = 3000
	hits := make([]int, n)
	hs := make([]*events.Listener, n)
	for i := range n {
		hs[i] = e.On(name(i), func(v int) { hits[i] += v })
	}
	for i := range n {
		if !e.Emit(name(i), 1) {
			t.Fatalf("Emit(%q) = false", name(i))
		}
	}
	for i := 0; i < n; i += 2 {
		e.Off(hs[i])
	}
	for i := range n {
		if got, want := e.Emit(name(i), 1), i%2 == 1; got != want {
			t.Fatalf("after removing even names: Emit(%q) = %v, want %v", name(i), got, want)
		}
		if want := 1 + i%2; hits[i] != want {
			t.Fatalf("listener %d ran %d times, want %d", i, hits[i], want)
		}
	}
	if got := len(e.EventNames()); got != n/2 {
		t.Fatalf("len(EventNames()) = %d, want %d", got, n/2)
	}
}

func name(i int) string { return "event-" + strconv.Itoa(i) }

// Many event names, each added and then removed (a name per request, say):
// the emitter's memory returns to where it started.
func TestManyNamesMemory(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	var e events.Emitter[int]
	e.On("keep", func(int) {})
	before := memtest.LiveHeap()
	hs := make([]*events.Listener, n)
	for i := range hs {
		hs[i] = e.On(name(i), func(int) {})
	}
	for _, h := range hs {
		e.Off(h)
	}
	hs = nil
	if grown := memtest.LiveHeap() - before; grown > 64<<10 {
		t.Fatalf("after %d names added and removed, the heap grew by %d KiB, want < 64 KiB", n, grown>>10)
	}
	if names := e.EventNames(); len(names) != 1 {
		t.Fatalf("EventNames() = %d names, want 1", len(names))
	}
}
