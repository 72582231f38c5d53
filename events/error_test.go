package events_test

// Node's test-event-emitter-errors.js and test-event-emitter-error-monitor.js.

import (
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/events"
)

// recovered runs fn and returns what it panicked with.
func recovered(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

func TestUnhandledError(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		message string
		wraps   error
	}{
		{"string", "Accepts a string", `events: unhandled "error" event (Accepts a string)`, nil},
		{"struct", struct{ Message string }{"Error!"}, `events: unhandled "error" event ({Error!})`, nil},
		{"error", io.ErrUnexpectedEOF, `events: unhandled "error" event: unexpected EOF`, io.ErrUnexpectedEOF},
		{"nil", nil, `events: unhandled "error" event (<nil>)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e events.Emitter[any]
			p := recovered(func() { e.Emit(events.ErrorEvent, tt.value) })
			err, ok := p.(error)
			if !ok {
				t.Fatalf("Emit(error) panicked with %T %v, want an error", p, p)
			}
			var ue *events.UnhandledError
			if !errors.As(err, &ue) || ue.Value != tt.value {
				t.Fatalf("panic %v is not an *UnhandledError carrying %v", err, tt.value)
			}
			if err.Error() != tt.message {
				t.Errorf("panic message = %q, want %q", err.Error(), tt.message)
			}
			if tt.wraps != nil && !errors.Is(err, tt.wraps) {
				t.Errorf("errors.Is(panic, %v) = false, want true", tt.wraps)
			}
			if tt.wraps == nil && errors.Unwrap(err) != nil {
				t.Errorf("errors.Unwrap(panic) = %v, want nil for a non-error value", errors.Unwrap(err))
			}
			// The emitter stays usable.
			e.On(events.ErrorEvent, func(any) {})
			if !e.Emit(events.ErrorEvent, tt.value) {
				t.Fatal("Emit(error) with a listener = false, want true")
			}
		})
	}
}

func TestListenerPanicPropagates(t *testing.T) {
	var e events.Emitter[int]
	var got calls
	e.On("x", func(int) { got = append(got, "first") })
	e.On("x", func(int) { panic("boom") })
	e.On("x", func(int) { got = append(got, "third") })
	if p := recovered(func() { e.Emit("x", 1) }); p != "boom" {
		t.Fatalf("Emit panicked with %v, want boom", p)
	}
	if diff := cmp.Diff(calls{"first"}, got); diff != "" {
		t.Fatalf("listeners after the panicking one must not run (-want +got):\n%s", diff)
	}
	// Usable afterwards, from inside a listener too (no lock was left held).
	e.On("y", func(int) { e.On("z", func(int) {}); e.Emit("z", 0) })
	e.Emit("y", 0)
	if e.ListenerCount("x") != 3 || e.ListenerCount("z") != 1 {
		t.Fatal("emitter lost listeners after a panic")
	}
}

func TestErrorMonitor(t *testing.T) {
	var e events.Emitter[error]
	theErr := errors.New("MyError")
	var got calls
	e.On(events.ErrorMonitor, func(err error) {
		if err != theErr {
			t.Errorf("monitor got %v, want %v", err, theErr)
		}
		got = append(got, "monitor")
	})

	// Without an "error" listener: the monitor runs, then Emit panics.
	p := recovered(func() { e.Emit(events.ErrorEvent, theErr) })
	if err, _ := p.(error); !errors.Is(err, theErr) {
		t.Fatalf("Emit(error) panicked with %v, want one wrapping %v", p, theErr)
	}

	// With one: monitor first, then the listener.
	e.Once(events.ErrorEvent, func(error) { got = append(got, "error") })
	if !e.Emit(events.ErrorEvent, theErr) {
		t.Fatal("Emit(error) = false, want true")
	}

	// Only "error" triggers the monitor.
	e.On("aEvent", func(error) { got = append(got, "aEvent") })
	e.Emit("aEvent", nil)

	want := calls{"monitor", "monitor", "error", "aEvent"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("calls (-want +got):\n%s", diff)
	}
}

// A listener can leave by runtime.Goexit (what t.Fatal does): Emit holds no
// lock and keeps no count, so the emitter stays usable, and a once listener
// that left so was removed before it ran.
func TestListenerGoexit(t *testing.T) {
	var e events.Emitter[int]
	once := 0
	e.Once("x", func(int) { once++; runtime.Goexit() })
	e.On("x", func(int) { runtime.Goexit() })
	for range 2 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.Emit("x", 1)
			t.Error("Emit returned after a listener called Goexit")
		}()
		<-done
	}
	e.On("y", func(int) { e.On("z", func(int) {}) })
	e.Emit("y", 0)
	if once != 1 || e.ListenerCount("x") != 1 || e.ListenerCount("z") != 1 {
		t.Fatalf("once listener ran %d times, x has %d listeners, z %d; want 1, 1, 1",
			once, e.ListenerCount("x"), e.ListenerCount("z"))
	}
}
