package events_test

// The 'newListener' and 'removeListener' parts of Node's
// test-event-emitter-{add,remove,remove-all}-listeners.js.

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/events"
)

// changeLog records changes as "new EVENT #i" / "remove EVENT #i", where i
// is the handle's index in hs (or ? for an unknown handle).
type changeLog struct {
	lines []string
	hs    *[]*events.Listener
}

func (c *changeLog) record(kind string) func(events.Change) {
	return func(ch events.Change) {
		id := "?"
		for i, h := range *c.hs {
			if h == ch.Listener {
				id = fmt.Sprint(i)
			}
		}
		c.lines = append(c.lines, fmt.Sprintf("%s %s #%s", kind, ch.Event, id))
	}
}

func TestNewListener(t *testing.T) {
	var e events.Emitter[string]
	var hs []*events.Listener
	log := changeLog{hs: &hs}
	e.Changes().On(events.NewListener, log.record("new"))
	e.Changes().Once(events.NewListener, func(ch events.Change) {
		// Announced before it is added.
		if n := e.ListenerCount("hello"); n != 0 {
			t.Errorf("during NewListener: ListenerCount(hello) = %d, want 0", n)
		}
		if e.Off(ch.Listener) {
			t.Error("Off of a listener not yet added = true")
		}
	})
	hs = append(hs, e.On("hello", func(string) {}))
	hs = append(hs, e.Once("foo", func(string) {}))
	// The announcement happens before the handle is returned, so it shows
	// as "?" here; the event names are what matter. As in Node, the second
	// NewListener listener's own registration is announced to the first.
	want := []string{"new newListener #?", "new hello #?", "new foo #?"}
	if diff := cmp.Diff(want, log.lines); diff != "" {
		t.Fatalf("announcements (-want +got):\n%s", diff)
	}
}

func TestNewListenerAddingFirst(t *testing.T) {
	// A listener added from a NewListener listener comes before the one
	// being added: registration order is not always call order.
	var e events.Emitter[string]
	var got calls
	e.Changes().Once(events.NewListener, func(events.Change) {
		e.On("hello", got.fn("listen2"))
	})
	e.On("hello", got.fn("listen1"))
	e.Emit("hello", "")
	if diff := cmp.Diff(calls{"listen2", "listen1"}, got); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
}

func TestRemoveListenerEvent(t *testing.T) {
	var e events.Emitter[string]
	var hs []*events.Listener
	log := changeLog{hs: &hs}
	e.Changes().On(events.RemoveListener, log.record("remove"))
	e.Changes().On(events.RemoveListener, func(ch events.Change) {
		// Announced after the removal.
		for _, h := range e.Listeners(ch.Event) {
			if h == ch.Listener {
				t.Errorf("during RemoveListener the listener is still registered")
			}
		}
	})
	hs = append(hs, e.On("hello", func(string) {}), e.On("hello", func(string) {}))
	e.Off(hs[0])
	e.Off(hs[0]) // not registered: no announcement
	e.Off(hs[1])
	hs = append(hs, e.Once("once", func(string) {}))
	e.Emit("once", "") // a once listener's removal is announced too
	want := []string{"remove hello #0", "remove hello #1", "remove once #2"}
	if diff := cmp.Diff(want, log.lines); diff != "" {
		t.Fatalf("announcements (-want +got):\n%s", diff)
	}
}

func TestRemoveListenerReentrant(t *testing.T) {
	// From Node: a removeListener listener that removes another listener and
	// emits; neither removed listener may run.
	var e events.Emitter[string]
	var remove1, remove2 *events.Listener
	n := 0
	e.Changes().On(events.RemoveListener, func(ch events.Change) {
		n++
		if ch.Listener != remove1 {
			return
		}
		e.Off(remove2)
		e.Emit("quux", "")
	})
	remove1 = e.On("quux", func(string) { t.Error("remove1 should not have been called") })
	remove2 = e.On("quux", func(string) { t.Error("remove2 should not have been called") })
	e.Off(remove1)
	if n != 2 {
		t.Fatalf("RemoveListener ran %d times, want 2", n)
	}
}

func TestRemoveAllAnnouncesLIFO(t *testing.T) {
	var e events.Emitter[string]
	var hs []*events.Listener
	log := changeLog{hs: &hs}
	hs = append(hs, e.On("foo", func(string) {}), e.On("bar", func(string) {}),
		e.On("baz", func(string) {}), e.On("baz", func(string) {}), e.On("baz", func(string) {}))
	counts := []int{}
	e.Changes().On(events.RemoveListener, log.record("remove"))
	e.Changes().On(events.RemoveListener, func(events.Change) {
		counts = append(counts, e.ListenerCount("baz"))
	})
	e.RemoveAll("bar", "baz")
	want := []string{"remove bar #1", "remove baz #4", "remove baz #3", "remove baz #2"}
	if diff := cmp.Diff(want, log.lines); diff != "" {
		t.Fatalf("RemoveAll(bar, baz) announcements (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{3, 2, 1, 0}, counts); diff != "" {
		t.Fatalf("baz's count as each removal is announced (-want +got):\n%s", diff)
	}
	log.lines = nil
	e.RemoveAll()
	// foo's listener, then the RemoveListener listeners themselves, newest
	// first: the counting one's removal is announced to the logging one.
	want = []string{"remove foo #0", "remove removeListener #?"}
	if diff := cmp.Diff(want, log.lines); diff != "" {
		t.Fatalf("RemoveAll() announcements (-want +got):\n%s", diff)
	}
	e.RemoveAll("absent") // must not announce or panic
	if len(log.lines) != 2 {
		t.Fatalf("RemoveAll(absent) announced %q", log.lines[2:])
	}
}

func TestChangesIsOneEmitter(t *testing.T) {
	var e events.Emitter[int]
	if e.Changes() != e.Changes() {
		t.Fatal("Changes() returned two different emitters")
	}
}

// Node's removeAllListeners() with no names: every event's listeners go,
// 'newListener' in its place among the events, then the 'removeListener'
// listeners last, newest first, each announced to those still registered
// (the order Node 20 prints for this program); afterwards nothing is
// announced any more.
func TestRemoveAllTearsDownChanges(t *testing.T) {
	var e events.Emitter[string]
	c := e.Changes()
	var lines []string
	id := map[*events.Listener]string{}
	saw := func(name string) func(events.Change) {
		return func(ch events.Change) {
			who, ok := id[ch.Listener]
			if !ok {
				who = "?"
			}
			lines = append(lines, fmt.Sprintf("%s saw %s %s", name, ch.Event, who))
		}
	}
	nop := func(string) {}
	id[e.On("foo", nop)] = "foo#0"
	id[c.On(events.NewListener, saw("new#1"))] = "new#1"
	id[c.On(events.RemoveListener, saw("rm#2"))] = "rm#2"
	id[e.On("bar", nop)] = "bar#3"
	id[c.On(events.RemoveListener, saw("rm#4"))] = "rm#4"
	id[e.On("foo", nop)] = "foo#5"
	// Announced before the handle exists, hence "?".
	want := []string{
		"new#1 saw removeListener ?",
		"new#1 saw bar ?",
		"new#1 saw removeListener ?",
		"new#1 saw foo ?",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Fatalf("announcements while adding (-want +got):\n%s", diff)
	}

	lines = nil
	e.RemoveAll()
	want = []string{
		"rm#2 saw foo foo#5",
		"rm#4 saw foo foo#5",
		"rm#2 saw foo foo#0",
		"rm#4 saw foo foo#0",
		"rm#2 saw newListener new#1",
		"rm#4 saw newListener new#1",
		"rm#2 saw bar bar#3",
		"rm#4 saw bar bar#3",
		"rm#2 saw removeListener rm#4",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Fatalf("RemoveAll() announcements (-want +got):\n%s", diff)
	}
	for _, ev := range []string{events.NewListener, events.RemoveListener} {
		if n := c.ListenerCount(ev); n != 0 {
			t.Errorf("after RemoveAll(): Changes().ListenerCount(%q) = %d, want 0", ev, n)
		}
	}
	if names := e.EventNames(); len(names) != 0 {
		t.Errorf("after RemoveAll(): EventNames() = %q, want none", names)
	}
	lines = nil
	e.Off(e.On("baz", nop))
	if len(lines) != 0 {
		t.Errorf("change listeners still announce after RemoveAll(): %q", lines)
	}
}

// Without 'removeListener' listeners Node clears everything at once, the
// 'newListener' listeners included.
func TestRemoveAllQuietDropsNewListener(t *testing.T) {
	var e events.Emitter[int]
	n := 0
	e.Changes().On(events.NewListener, func(events.Change) { n++ })
	e.On("a", func(int) {})
	e.RemoveAll()
	e.On("a", func(int) {})
	if n != 1 || e.Changes().ListenerCount(events.NewListener) != 0 {
		t.Fatalf("NewListener listener ran %d times and %d are left; want 1 and 0",
			n, e.Changes().ListenerCount(events.NewListener))
	}
}

// The Changes emitter is Node's two change events of the one emitter: it
// announces its own changes, and e's listener limit covers it.
func TestChangesAnnouncesItself(t *testing.T) {
	var e events.Emitter[int]
	c := e.Changes()
	if c.Changes() != c {
		t.Fatal("Changes().Changes() is not Changes()")
	}
	var got []string
	c.On(events.NewListener, func(ch events.Change) { got = append(got, "new "+ch.Event) })
	c.On(events.RemoveListener, func(ch events.Change) { got = append(got, "remove "+ch.Event) })
	c.Off(c.On(events.NewListener, func(events.Change) {}))
	want := []string{"new removeListener", "new newListener", "remove newListener"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("announcements (-want +got):\n%s", diff)
	}
}

func TestChangesSharesLimit(t *testing.T) {
	e, w := warnings()
	e.SetMaxListeners(1)
	c := e.Changes()
	if n := c.MaxListeners(); n != 1 {
		t.Fatalf("Changes().MaxListeners() = %d after SetMaxListeners(1) before Changes, want 1", n)
	}
	e.SetMaxListeners(2)
	for range 3 {
		c.On(events.NewListener, func(events.Change) {})
	}
	if diff := cmp.Diff([]string{"warn newListener 3"}, w.take()); diff != "" {
		t.Fatalf("warnings (-want +got):\n%s", diff)
	}
}
