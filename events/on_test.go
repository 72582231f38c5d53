package events_test

// Node's test-event-on-async-iterator.js for On, and what a Go loop adds:
// registration at the call, the error as the last pair, single use.

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/events"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/internal/memtest"
	"pgregory.net/rapid"
)

// pair is one element of an On sequence.
type pair[T any] struct {
	V   T
	Err error
}

// collect ranges over seq until it ends, or until stop reports true for a
// pair, and returns the pairs.
func collect[T any](seq func(func(T, error) bool), stop func(T, error) bool) []pair[T] {
	var got []pair[T]
	for v, err := range seq {
		got = append(got, pair[T]{v, err})
		if stop != nil && stop(v, err) {
			break
		}
	}
	return got
}

var equateErrors = cmp.Comparer(func(a, b error) bool { return a == b })

func TestOn(t *testing.T) {
	kaboom := errors.New("kaboom")
	t.Run("basic", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[any]
			later(func() {
				e.Emit("foo", "bar")
				e.Emit("bar", 24) // another event: not in the sequence
				e.Emit("foo", 42)
			})
			got := collect(events.On(t.Context(), &e, "foo"), func(v any, _ error) bool { return v == 42 })
			want := []pair[any]{{"bar", nil}, {42, nil}}
			if diff := cmp.Diff(want, got, equateErrors); diff != "" {
				t.Fatalf("pairs (-want +got):\n%s", diff)
			}
			noListeners(t, &e)
		})
	})
	t.Run("error", func(t *testing.T) {
		var e events.Emitter[error]
		seq := events.On(t.Context(), &e, "foo")
		e.Emit(events.ErrorEvent, kaboom) // handled by On: no panic
		got := collect(seq, nil)
		if diff := cmp.Diff([]pair[error]{{nil, kaboom}}, got, equateErrors); diff != "" {
			t.Fatalf("pairs (-want +got):\n%s", diff)
		}
		noListeners(t, &e)
	})
	t.Run("error after values", func(t *testing.T) {
		var e events.Emitter[any]
		seq := events.On(t.Context(), &e, "foo")
		e.Emit("foo", 42)
		e.Emit(events.ErrorEvent, kaboom)
		if e.Emit("foo", 43) {
			t.Error("On still listened after the error")
		}
		got := collect(seq, nil)
		if diff := cmp.Diff([]pair[any]{{42, nil}, {nil, kaboom}}, got, equateErrors); diff != "" {
			t.Fatalf("pairs (-want +got):\n%s", diff)
		}
		noListeners(t, &e)
	})
	t.Run("error value that is not an error", func(t *testing.T) {
		var e events.Emitter[string]
		seq := events.On(t.Context(), &e, "foo")
		e.Emit(events.ErrorEvent, "disk full")
		got := collect(seq, nil)
		if len(got) != 1 || got[0].Err == nil || got[0].Err.Error() != `events: "error" event (disk full)` {
			t.Fatalf("pairs = %+v, want one error naming the value", got)
		}
	})
	t.Run("error as the event", func(t *testing.T) {
		var e events.Emitter[error]
		seq := events.On(t.Context(), &e, events.ErrorEvent)
		e.Emit(events.ErrorEvent, kaboom)
		got := collect(seq, func(error, error) bool { return true })
		if diff := cmp.Diff([]pair[error]{{kaboom, nil}}, got, equateErrors); diff != "" {
			t.Fatalf("pairs (-want +got):\n%s", diff)
		}
		noListeners(t, &e)
	})
	t.Run("panic in loop removes the listeners", func(t *testing.T) {
		var e events.Emitter[int]
		seq := events.On(t.Context(), &e, "foo")
		e.Emit("foo", 42)
		p := recovered(func() {
			for range seq {
				panic("kaboom")
			}
		})
		if p != "kaboom" {
			t.Fatalf("loop panicked with %v, want kaboom", p)
		}
		noListeners(t, &e)
	})
	t.Run("Goexit in loop removes the listeners", func(t *testing.T) {
		var e events.Emitter[int]
		seq := events.On(t.Context(), &e, "foo")
		e.Emit("foo", 42)
		var wg sync.WaitGroup
		wg.Go(func() {
			for range seq {
				runtime.Goexit() // what t.Fatal does
			}
		})
		wg.Wait()
		noListeners(t, &e)
	})
	t.Run("context ends: buffered values, then its error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			ctx, cancel := context.WithCancel(t.Context())
			seq := events.On(ctx, &e, "foo")
			e.Emit("foo", 1)
			e.Emit("foo", 2)
			cancel()
			synctest.Wait() // the AfterFunc has run
			noListeners(t, &e)
			got := collect(seq, nil)
			want := []pair[int]{{1, nil}, {2, nil}, {0, context.Canceled}}
			if diff := cmp.Diff(want, got, equateErrors); diff != "" {
				t.Fatalf("pairs (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("context ends while the loop waits", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			ctx, cancel := context.WithCancel(t.Context())
			later(cancel)
			got := collect(events.On(ctx, &e, "foo"), nil)
			if diff := cmp.Diff([]pair[int]{{0, context.Canceled}}, got, equateErrors); diff != "" {
				t.Fatalf("pairs (-want +got):\n%s", diff)
			}
			noListeners(t, &e)
		})
	})
	t.Run("context already ended", func(t *testing.T) {
		var e events.Emitter[int]
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		e.Changes().On(events.NewListener, func(events.Change) { t.Error("On added a listener") })
		for range 3 { // the same answer every time
			got := collect(events.On(ctx, &e, "foo"), nil)
			if diff := cmp.Diff([]pair[int]{{0, context.Canceled}}, got, equateErrors); diff != "" {
				t.Fatalf("pairs (-want +got):\n%s", diff)
			}
		}
	})
	t.Run("never ranged: removed when the context ends", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			ctx, cancel := context.WithCancel(t.Context())
			events.On(ctx, &e, "foo")
			e.Emit("foo", 1)
			if n := e.ListenerCount("foo") + e.ListenerCount(events.ErrorEvent); n != 2 {
				t.Fatalf("listeners of foo and error = %d, want 2", n)
			}
			cancel()
			synctest.Wait()
			noListeners(t, &e)
		})
	})
	t.Run("close events end it without error", func(t *testing.T) {
		var e events.Emitter[int]
		seq := events.On(t.Context(), &e, "data", "end", "close")
		if n := e.ListenerCount("end") + e.ListenerCount("close"); n != 2 {
			t.Fatalf("listeners of the close events = %d, want 2", n)
		}
		e.Emit("data", 1)
		e.Emit("data", 2)
		e.Emit("close", 0)
		if e.Emit("data", 3) {
			t.Error("On still listened after a close event")
		}
		got := collect(seq, nil)
		if diff := cmp.Diff([]pair[int]{{1, nil}, {2, nil}}, got, equateErrors); diff != "" {
			t.Fatalf("pairs (-want +got):\n%s", diff)
		}
		noListeners(t, &e)
	})
	t.Run("close event that is the event", func(t *testing.T) {
		// Node: the value listener comes first, so the value is yielded.
		var e events.Emitter[int]
		seq := events.On(t.Context(), &e, "foo", "foo")
		e.Emit("foo", 1)
		got := collect(seq, nil)
		if diff := cmp.Diff([]pair[int]{{1, nil}}, got, equateErrors); diff != "" {
			t.Fatalf("pairs (-want +got):\n%s", diff)
		}
	})
	t.Run("error as a close event", func(t *testing.T) {
		// Node: the error listener comes first, so the error wins.
		var e events.Emitter[error]
		seq := events.On(t.Context(), &e, "foo", events.ErrorEvent)
		e.Emit(events.ErrorEvent, kaboom)
		got := collect(seq, nil)
		if diff := cmp.Diff([]pair[error]{{nil, kaboom}}, got, equateErrors); diff != "" {
			t.Fatalf("pairs (-want +got):\n%s", diff)
		}
	})
	t.Run("buffers while the body runs", func(t *testing.T) {
		var e events.Emitter[int]
		seq := events.On(t.Context(), &e, "n")
		e.Emit("n", 0)
		var got []int
		for v := range seq {
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
	t.Run("ranged again after a break", func(t *testing.T) {
		// Node's iterator: after return(), what was buffered is still
		// yielded, then nothing.
		var e events.Emitter[int]
		seq := events.On(t.Context(), &e, "foo")
		e.Emit("foo", 1)
		e.Emit("foo", 2)
		e.Emit("foo", 3)
		first := collect(seq, func(int, error) bool { return true })
		noListeners(t, &e)
		e.Emit("foo", 4) // not listened to any more
		second := collect(seq, nil)
		third := collect(seq, nil)
		want := [][]pair[int]{{{1, nil}}, {{2, nil}, {3, nil}}, nil}
		if diff := cmp.Diff(want, [][]pair[int]{first, second, third}, equateErrors); diff != "" {
			t.Fatalf("the three loops' pairs (-want +got):\n%s", diff)
		}
	})
	t.Run("ranged again after a break before the error", func(t *testing.T) {
		var e events.Emitter[int]
		seq := events.On(t.Context(), &e, "foo")
		e.Emit("foo", 1)
		e.Emit("foo", 2)
		e.Emit(events.ErrorEvent, 0)
		first := collect(seq, func(int, error) bool { return true })
		second := collect(seq, nil)
		if len(first) != 1 || len(second) != 2 || second[0].V != 2 || second[1].Err == nil {
			t.Fatalf("loops got %+v then %+v; want 1, then 2 and the error", first, second)
		}
	})
	t.Run("two loops at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var e events.Emitter[int]
			ctx, cancel := context.WithCancel(t.Context())
			seq := events.On(ctx, &e, "foo")
			done := make(chan struct{})
			go func() {
				defer close(done)
				collect(seq, nil)
			}()
			synctest.Wait() // the first loop is waiting
			p := recovered(func() { collect(seq, nil) })
			if p != "events: On's sequence ranged over by two loops at once" {
				t.Errorf("second loop panicked with %v", p)
			}
			cancel()
			<-done
			noListeners(t, &e)
		})
	})
	t.Run("listens for error", func(t *testing.T) {
		var e events.Emitter[int]
		events.On(t.Context(), &e, "foo")
		if n := e.ListenerCount(events.ErrorEvent); n != 1 {
			t.Fatalf("ListenerCount(error) = %d, want 1", n)
		}
	})
}

// Once and On on real goroutines leave no goroutine and no listener behind,
// whether they end by an event, a break, an error or their context.
func TestOnEndsLeakNothing(t *testing.T) {
	leaktest.Check(t)
	var e events.Emitter[int]
	e.SetMaxListeners(0)
	var seqs []func(func(int, error) bool)
	for range 50 {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		seqs = append(seqs, events.On(ctx, &e, "x"))
	}
	var wg sync.WaitGroup
	for i, seq := range seqs {
		wg.Go(func() {
			for v, err := range seq {
				if err != nil || v == i {
					break
				}
			}
		})
	}
	for i := range 25 {
		e.Emit("x", i)
	}
	e.Emit(events.ErrorEvent, -1)
	wg.Wait()
	noListeners(t, &e)
}

// Node's on(ee, name) listens from the call: what is emitted before the
// first range is not lost.
func TestOnRegistersAtCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e events.Emitter[int]
		seq := events.On(t.Context(), &e, "foo")
		if n := e.ListenerCount("foo"); n != 1 {
			t.Fatalf("after On: ListenerCount(foo) = %d, want 1", n)
		}
		if !e.Emit("foo", 1) {
			t.Fatal("Emit before the range = false: nobody listened")
		}
		for v := range seq {
			if v != 1 {
				t.Fatalf("first value = %d, want 1", v)
			}
			break
		}
		noListeners(t, &e)
	})
}

// A consumer that stays one value behind holds a backlog of one or two
// values, whatever went through: On's buffer follows the backlog.
func TestOnMemoryFollowsBacklog(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	var e events.Emitter[[4]int]
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	seq := events.On(ctx, &e, "v")
	before := memtest.LiveHeap()
	go func() {
		for e.ListenerCount("v") == 0 {
			runtime.Gosched()
		}
		e.Emit("v", [4]int{}) // two ahead of the loop
		e.Emit("v", [4]int{})
	}()
	got := 0
	for range seq {
		if got++; got == n {
			break
		}
		if got == n-1 {
			// The loop is idle between values here, with one buffered;
			// the sequence and its buffer are alive.
			if grown := memtest.LiveHeap() - before; grown > 64<<10 {
				t.Fatalf("after %d values through a loop one behind, the heap grew by %d KiB, want < 64 KiB", n, grown>>10)
			}
		}
		e.Emit("v", [4]int{})
	}
	runtime.KeepAlive(seq)
}

// A burst far ahead of the loop, drained, then idle: the buffer gives its
// memory back.
func TestOnMemoryAfterBurst(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	var e events.Emitter[[4]int]
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	seq := events.On(ctx, &e, "v")
	before := memtest.LiveHeap()
	for range n {
		e.Emit("v", [4]int{})
	}
	e.Emit("v", [4]int{1})
	for v := range seq {
		if v[0] == 1 {
			break
		}
	}
	if grown := memtest.LiveHeap() - before; grown > 64<<10 {
		t.Fatalf("after a burst of %d values, drained, the heap grew by %d KiB, want < 64 KiB", n, grown>>10)
	}
	runtime.KeepAlive(seq)
}

// A RemoveListener listener that panics (or exits the goroutine) while a
// loop ends: the panic reaches the loop's caller, and every listener of the
// sequence is removed all the same.
func TestOnRemoveListenerPanics(t *testing.T) {
	for name, exit := range map[string]func(){
		"panic":  func() { panic("kaboom") },
		"Goexit": runtime.Goexit,
	} {
		t.Run(name, func(t *testing.T) {
			var e events.Emitter[int]
			seq := events.On(t.Context(), &e, "foo", "end")
			e.Changes().On(events.RemoveListener, func(events.Change) { exit() })
			e.Emit("foo", 1)
			var wg sync.WaitGroup
			var p any
			wg.Go(func() {
				p = recovered(func() {
					for range seq {
						break
					}
				})
			})
			wg.Wait()
			if name == "panic" && p != "kaboom" {
				t.Errorf("the loop panicked with %v, want kaboom", p)
			}
			noListeners(t, &e)
		})
	}
}

// Many sequences and waits under one long-lived context, each ended by a
// break or an event: none stays registered with the context or the emitter.
func TestHelpersManyUnderOneContext(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	var e events.Emitter[int]
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	before := memtest.LiveHeap()
	for i := range n {
		seq := events.On(ctx, &e, "x")
		ch := events.OnceChan(ctx, &e, "x")
		e.Emit("x", i)
		for range seq {
			break
		}
		<-ch
	}
	if grown := memtest.LiveHeap() - before; grown > 64<<10 {
		t.Fatalf("after %d On and OnceChan calls under one context, the heap grew by %d KiB, want < 64 KiB", n, grown>>10)
	}
	noListeners(t, &e)
}

// TestOnMatchesModel drives an On sequence with random emits, errors, close
// events, cancellations and loops that take a few values and break, against
// a plain model of Node's iterator: a queue, a pending error, and whether it
// still listens.
func TestOnMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var e events.Emitter[int]
		e.SetMaxListeners(0)
		e.On(events.ErrorEvent, func(int) {}) // so that an error never panics
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		seq := events.On(ctx, &e, "x", "end")

		// The model.
		var buf []int
		listening, ended := true, false
		var pending error
		stop := func(err error) {
			if listening {
				listening, ended, pending = false, true, err
			}
		}
		next := 0
		t.Repeat(map[string]func(*rapid.T){
			"emit": func(t *rapid.T) {
				e.Emit("x", next)
				if listening {
					buf = append(buf, next)
				}
				next++
			},
			"error": func(t *rapid.T) {
				e.Emit(events.ErrorEvent, 0)
				stop(errorOfInt)
			},
			"end": func(t *rapid.T) {
				e.Emit("end", 0)
				stop(nil)
			},
			"cancel": func(t *rapid.T) {
				cancel()
				for e.ListenerCount("x") != 0 { // the AfterFunc's goroutine
					runtime.Gosched()
				}
				stop(context.Canceled)
			},
			"loop": func(t *rapid.T) {
				// Take k values and break, never waiting for one that no
				// one will emit.
				k := rapid.IntRange(0, len(buf)+2).Draw(t, "k")
				if !ended {
					k = min(k, len(buf))
				}
				var got []pair[int]
				if k > 0 {
					for v, err := range seq {
						got = append(got, pair[int]{v, err})
						if len(got) == k {
							break
						}
					}
				}
				var want []pair[int]
				for len(want) < k && len(buf) > 0 {
					want = append(want, pair[int]{buf[0], nil})
					buf = buf[1:]
				}
				if len(want) < k && pending != nil {
					want = append(want, pair[int]{0, pending})
					pending = nil
				}
				if k > 0 {
					stop(nil) // the loop ended: so did the listening
				}
				if diff := cmp.Diff(want, got, sameMessage); diff != "" {
					t.Fatalf("loop of %d (-want +got):\n%s", k, diff)
				}
			},
			"": func(t *rapid.T) {
				want := 0
				if listening {
					want = 1
				}
				if n := e.ListenerCount("x"); n != want {
					t.Fatalf("ListenerCount(x) = %d, want %d", n, want)
				}
			},
		})
	})
}

// errorOfInt stands, in TestOnMatchesModel's model, for the error that an
// "error" event with the int 0 becomes.
var errorOfInt = errors.New(`events: "error" event (0)`)

// sameMessage compares errors by their messages.
var sameMessage = cmp.Comparer(func(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
})
