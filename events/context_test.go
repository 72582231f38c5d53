package events_test

// Node's test-events-once.js and test-events-on-async-iterator.js, for the
// context-aware Once and On. synctest runs them on a fake clock and fails
// them if a goroutine is left blocked.

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
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

func TestOnContext(t *testing.T) {
	t.Run("basic", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[any]
			later(func() {
				e.Emit("foo", "bar")
				e.Emit("bar", 24) // another event: not in the sequence
				e.Emit("foo", 42)
			})
			var got []any
			for v := range events.On(t.Context(), &e, "foo") {
				got = append(got, v)
				if len(got) == 2 {
					break
				}
			}
			if diff := cmp.Diff([]any{"bar", 42}, got); diff != "" {
				t.Fatalf("values (-want +got):\n%s", diff)
			}
			noListeners(t, &e)
		})
	})
	t.Run("buffers while the body runs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			later(func() { e.Emit("n", 0) })
			var got []int
			for v := range events.On(t.Context(), &e, "n") {
				got = append(got, v)
				if v == 0 {
					for i := 1; i <= 1000; i++ {
						e.Emit("n", i) // never blocks, though nobody is reading
					}
				}
				if v == 1000 {
					break
				}
			}
			if len(got) != 1001 || got[500] != 500 {
				t.Fatalf("got %d values, want 0..1000 in order", len(got))
			}
			noListeners(t, &e)
		})
	})
	t.Run("panic in loop removes the listener", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			later(func() { e.Emit("foo", 42) })
			p := recovered(func() {
				for range events.On(t.Context(), &e, "foo") {
					panic("kaboom")
				}
			})
			if p != "kaboom" {
				t.Fatalf("loop panicked with %v, want kaboom", p)
			}
			noListeners(t, &e)
		})
	})
	t.Run("context ends: buffered values, then stop", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			ctx, cancel := context.WithCancel(t.Context())
			finished := make(chan struct{})
			later(func() {
				defer close(finished)
				e.Emit("foo", 1)
				e.Emit("foo", 2)
				cancel()
				synctest.Wait()
				if e.Emit("foo", 3) {
					t.Error("the listener outlived the context")
				}
			})
			var got []int
			for v := range events.On(ctx, &e, "foo") {
				got = append(got, v)
			}
			if diff := cmp.Diff([]int{1, 2}, got); diff != "" {
				t.Fatalf("values (-want +got):\n%s", diff)
			}
			if ctx.Err() != context.Canceled {
				t.Fatalf("ctx.Err() = %v after the loop", ctx.Err())
			}
			<-finished
			noListeners(t, &e)
		})
	})
	t.Run("context done before", func(t *testing.T) {
		var e events.Emitter[int]
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for range events.On(ctx, &e, "foo") {
			t.Fatal("the loop body ran")
		}
		noListeners(t, &e)
	})
	t.Run("listens from the start of each loop", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			seq := events.On(t.Context(), &e, "foo")
			if e.Emit("foo", -1) {
				t.Fatal("On registered before the loop started")
			}
			for i := range 2 {
				later(func() { e.Emit("foo", i) })
				for v := range seq {
					if n := e.ListenerCount("foo"); v != i || n != 1 {
						t.Fatalf("loop %d got %d with %d listeners, want %d with 1", i, v, n, i)
					}
					break
				}
				noListeners(t, &e)
			}
		})
	})
	t.Run("does not listen for error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			later(func() { e.Emit("foo", 1) })
			for range events.On(t.Context(), &e, "foo") {
				if n := e.ListenerCount(events.ErrorEvent); n != 0 {
					t.Fatalf("ListenerCount(error) = %d, want 0", n)
				}
				break
			}
		})
	})
}
