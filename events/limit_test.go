package events_test

// Node's test-event-emitter-check-listener-leaks.js and
// test-event-emitter-max-listeners.js.

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/events"
)

// warnings returns an emitter whose warnings are collected as "warn EVENT N".
func warnings() (*events.Emitter[int], *warningLog) {
	w := &warningLog{}
	return &events.Emitter[int]{Logger: slog.New(w)}, w
}

func addN(e *events.Emitter[int], event string, n int) []*events.Listener {
	hs := make([]*events.Listener, n)
	for i := range hs {
		hs[i] = e.On(event, func(int) {})
	}
	return hs
}

func TestCheckListenerLeaks(t *testing.T) {
	e, w := warnings()

	addN(e, "default", 10)
	if got := w.take(); len(got) != 0 {
		t.Fatalf("10 listeners warned %q, want nothing", got)
	}
	addN(e, "default", 3) // the 11th warns, the 12th and 13th do not
	if diff := cmp.Diff([]string{"warn default 11"}, w.take()); diff != "" {
		t.Fatalf("default limit (-want +got):\n%s", diff)
	}

	e.SetMaxListeners(5)
	addN(e, "specific", 6)
	e.SetMaxListeners(1)
	addN(e, "only one", 2)
	e.SetMaxListeners(0)
	addN(e, "unlimited", 1000)
	want := []string{"warn specific 6", "warn only one 2"}
	if diff := cmp.Diff(want, w.take()); diff != "" {
		t.Fatalf("specific limits (-want +got):\n%s", diff)
	}
	if got := e.MaxListeners(); got != 0 {
		t.Fatalf("MaxListeners() = %d after SetMaxListeners(0), want 0", got)
	}
}

func TestLeakWarningResetsAtOneListener(t *testing.T) {
	e, w := warnings()
	e.SetMaxListeners(2)
	hs := addN(e, "x", 3)
	e.Off(hs[2]) // two left: still warned
	e.On("x", func(int) {})
	e.Off(hs[0])
	e.Off(hs[1]) // one left: Node forgets the warning
	addN(e, "x", 2)
	want := []string{"warn x 3", "warn x 3"}
	if diff := cmp.Diff(want, w.take()); diff != "" {
		t.Fatalf("warnings (-want +got):\n%s", diff)
	}
}

func TestLeakWarningText(t *testing.T) {
	var buf bytes.Buffer
	e := events.Emitter[int]{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	e.SetMaxListeners(1)
	addN(&e, "foo", 2)
	for _, want := range []string{
		"level=WARN",
		"Possible EventEmitter memory leak detected. 2 foo listeners added to *events.Emitter[int]. MaxListeners is 1.",
		"Use SetMaxListeners to increase limit",
		"event=foo listeners=2 max=1",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("warning %q does not contain %q", buf.String(), want)
		}
	}
}

func TestLeakWarningSilenced(t *testing.T) {
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))

	quiet := events.Emitter[int]{Logger: slog.New(slog.DiscardHandler)}
	addN(&quiet, "x", 11)
	if buf.Len() != 0 {
		t.Fatalf("a discarding Logger still logged %q", buf.String())
	}
	var loud events.Emitter[int] // nil Logger: slog.Default()
	addN(&loud, "x", 11)
	if !strings.Contains(buf.String(), "memory leak") {
		t.Fatalf("the default logger got %q, want the warning", buf.String())
	}
}

func TestSetMaxListenersNegativePanics(t *testing.T) {
	var e events.Emitter[int]
	p := recovered(func() { e.SetMaxListeners(-1) })
	if p != "events: SetMaxListeners(-1): negative limit" {
		t.Fatalf("SetMaxListeners(-1) panicked with %v", p)
	}
	if e.MaxListeners() != events.DefaultMaxListeners {
		t.Fatal("a rejected SetMaxListeners changed the limit")
	}
	// An event named like the method is just an event (Node's test checks
	// that setMaxListeners does not corrupt a 'maxListeners' listener).
	n := 0
	e.On("maxListeners", func(int) { n++ })
	e.SetMaxListeners(42)
	e.Emit("maxListeners", 0)
	if n != 1 || e.MaxListeners() != 42 {
		t.Fatalf("calls = %d, MaxListeners() = %d; want 1, 42", n, e.MaxListeners())
	}
}
