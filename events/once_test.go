package events_test

// Node's test-events-once.js, for the context-aware Once and OnceChan.
// synctest runs them on a fake clock and fails them if a goroutine is left
// blocked.

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nodekit/nodekit/events"
)

// later runs fn on another goroutine once the test goroutine is blocked.
func later(fn func()) {
	go func() {
		synctest.Wait()
		fn()
	}()
}

// noListeners fails t unless e has no listeners left.
func noListeners[T any](t *testing.T, e *events.Emitter[T]) {
	t.Helper()
	if names := e.EventNames(); len(names) != 0 {
		t.Errorf("listeners left behind on %q", names)
	}
}

func TestOnceContext(t *testing.T) {
	kaboom := errors.New("kaboom")
	t.Run("an event", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[any]
			later(func() { e.Emit("myevent", 42) })
			v, err := events.Once(t.Context(), &e, "myevent")
			if v != 42 || err != nil {
				t.Fatalf("Once() = %v, %v; want 42, nil", v, err)
			}
			noListeners(t, &e)
		})
	})
	t.Run("catches errors", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[any]
			later(func() {
				e.Emit(events.ErrorEvent, kaboom)
				if e.Emit("myevent", 42) {
					t.Error("Once still listened after the error")
				}
			})
			if _, err := events.Once(t.Context(), &e, "myevent"); err != kaboom {
				t.Fatalf("Once() error = %v, want %v itself", err, kaboom)
			}
			noListeners(t, &e)
		})
	})
	t.Run("error value that is not an error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[string]
			later(func() { e.Emit(events.ErrorEvent, "disk full") })
			_, err := events.Once(t.Context(), &e, "myevent")
			if err == nil || err.Error() != `events: "error" event (disk full)` {
				t.Fatalf("Once() error = %v, want one naming the value", err)
			}
		})
	})
	t.Run("waiting for error itself", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[error]
			later(func() { e.Emit(events.ErrorEvent, kaboom) })
			v, err := events.Once(t.Context(), &e, events.ErrorEvent)
			if v != kaboom || err != nil {
				t.Fatalf("Once(error) = %v, %v; want %v, nil", v, err, kaboom)
			}
			noListeners(t, &e)
		})
	})
	t.Run("error monitor sees it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[error]
			var seen error
			e.On(events.ErrorMonitor, func(err error) { seen = err })
			later(func() { e.Emit(events.ErrorEvent, kaboom) })
			if _, err := events.Once(t.Context(), &e, "notTriggered"); err != kaboom || seen != kaboom {
				t.Fatalf("Once() error = %v, monitor saw %v; want %v for both", err, seen, kaboom)
			}
		})
	})
	t.Run("context done before", func(t *testing.T) {
		var e events.Emitter[int]
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		e.Changes().On(events.NewListener, func(events.Change) { t.Error("Once added a listener") })
		if _, err := events.Once(ctx, &e, "foo"); err != context.Canceled {
			t.Fatalf("Once() error = %v, want context.Canceled", err)
		}
	})
	t.Run("context ends while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			start := time.Now()
			if _, err := events.Once(ctx, &e, "foo"); err != context.DeadlineExceeded {
				t.Fatalf("Once() error = %v, want context.DeadlineExceeded", err)
			}
			if waited := time.Since(start); waited != time.Minute {
				t.Fatalf("Once waited %v, want 1m", waited)
			}
			noListeners(t, &e)
		})
	})
	t.Run("concurrent emits deliver one value", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			start := make(chan struct{})
			for i := range 8 {
				go func() { <-start; e.Emit("foo", i) }()
			}
			later(func() { close(start) })
			if _, err := events.Once(t.Context(), &e, "foo"); err != nil {
				t.Fatalf("Once() error = %v", err)
			}
			synctest.Wait()
			noListeners(t, &e)
		})
	})
}

// Node's `const p = once(ee, 'x'); ee.emit('x', v); await p`: OnceChan
// registers before it returns, so the emit may come from the same goroutine.
func TestOnceChan(t *testing.T) {
	kaboom := errors.New("kaboom")
	t.Run("register now, wait later", func(t *testing.T) {
		var e events.Emitter[int]
		ch := events.OnceChan(t.Context(), &e, "x")
		if n := e.ListenerCount("x"); n != 1 {
			t.Fatalf("after OnceChan: ListenerCount(x) = %d, want 1", n)
		}
		if !e.Emit("x", 7) {
			t.Fatal("Emit = false: OnceChan was not listening")
		}
		e.Emit("x", 8) // not the next one any more
		if r := <-ch; r.Value != 7 || r.Err != nil {
			t.Fatalf("OnceChan delivered %+v, want {Value:7 Err:<nil>}", r)
		}
		noListeners(t, &e)
		select {
		case r := <-ch:
			t.Fatalf("a second Result %+v", r)
		default:
		}
	})
	t.Run("error", func(t *testing.T) {
		var e events.Emitter[error]
		ch := events.OnceChan(t.Context(), &e, "x")
		e.Emit(events.ErrorEvent, kaboom) // handled: no panic
		if r := <-ch; r.Err != kaboom {
			t.Fatalf("OnceChan delivered %+v, want Err %v", r, kaboom)
		}
		noListeners(t, &e)
	})
	t.Run("context ends", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			ch := events.OnceChan(ctx, &e, "x")
			r := <-ch
			if r.Err != context.DeadlineExceeded {
				t.Fatalf("OnceChan delivered %+v, want context.DeadlineExceeded", r)
			}
			noListeners(t, &e) // removed before the Result was sent
		})
	})
	t.Run("context already ended", func(t *testing.T) {
		var e events.Emitter[int]
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		e.Changes().On(events.NewListener, func(events.Change) { t.Error("OnceChan added a listener") })
		for range 3 { // the same answer every time
			if r := <-events.OnceChan(ctx, &e, "x"); r.Err != context.Canceled {
				t.Fatalf("OnceChan delivered %+v, want context.Canceled", r)
			}
		}
	})
	t.Run("select over two", func(t *testing.T) {
		var e events.Emitter[string]
		a, b := events.OnceChan(t.Context(), &e, "a"), events.OnceChan(t.Context(), &e, "b")
		e.Emit("b", "second")
		select {
		case r := <-a:
			t.Fatalf("a delivered %+v", r)
		case r := <-b:
			if r.Value != "second" {
				t.Fatalf("b delivered %+v", r)
			}
		}
		e.Emit("a", "first")
		if r := <-a; r.Value != "first" {
			t.Fatalf("a delivered %+v", r)
		}
		noListeners(t, &e)
	})
}

func TestHelpersRejectNil(t *testing.T) {
	var e events.Emitter[int]
	var nilCtx context.Context
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"Once nil ctx", func() { events.Once(nilCtx, &e, "x") }, "events: Once with a nil Context"},
		{"Once nil emitter", func() { events.Once[int](t.Context(), nil, "x") }, "events: Once with a nil *Emitter"},
		{"OnceChan nil ctx", func() { events.OnceChan(nilCtx, &e, "x") }, "events: OnceChan with a nil Context"},
		{"OnceChan nil emitter", func() { events.OnceChan[int](t.Context(), nil, "x") }, "events: OnceChan with a nil *Emitter"},
		{"On nil ctx", func() { events.On(nilCtx, &e, "x") }, "events: On with a nil Context"},
		{"On nil emitter", func() { events.On[int](t.Context(), nil, "x") }, "events: On with a nil *Emitter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p := recovered(tt.call); p != tt.want {
				t.Fatalf("panicked with %v, want %q", p, tt.want)
			}
			noListeners(t, &e)
		})
	}
}

// A NewListener listener that panics while Once or On registers: the panic
// reaches the caller and nothing stays registered.
func TestHelpersUndoOnPanic(t *testing.T) {
	for name, call := range map[string]func(*events.Emitter[int]){
		"Once": func(e *events.Emitter[int]) { events.Once(t.Context(), e, "x") },
		"On":   func(e *events.Emitter[int]) { events.On(t.Context(), e, "x") },
	} {
		t.Run(name, func(t *testing.T) {
			var e events.Emitter[int]
			n := 0
			e.Changes().On(events.NewListener, func(c events.Change) {
				if n++; n == 2 { // the second listener: "error"
					panic("kaboom")
				}
			})
			if p := recovered(func() { call(&e) }); p != "kaboom" {
				t.Fatalf("%s panicked with %v, want kaboom", name, p)
			}
			noListeners(t, &e)
		})
	}
}
