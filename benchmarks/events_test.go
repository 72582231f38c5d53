// Package benchmarks compares nodekit's events.Emitter with other in-process,
// synchronous Go event emitters. It is a nested module so that the comparison
// libraries never become dependencies of github.com/nodekit/nodekit.
//
// Benchmark names end in /lib=NAME so that benchstat can put the libraries
// side by side as columns:
//
//	go test -run '^$' -bench . -count 6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /lib new.txt
package benchmarks

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	eventbus "github.com/asaskevich/EventBus"
	kataras "github.com/kataras/go-events"
	"github.com/nodekit/nodekit/events"
)

// event is the one event name every benchmark emits; payload is the value it
// carries. A small int is boxed into an interface without allocating, so the
// interface-based libraries are not charged for boxing it.
const (
	event   = "tick"
	payload = 1
)

// sink is what the sequential listeners add the payload to; the parallel
// listeners only read their argument (checkInt, checkAny), so they do not race.
var sink int

// Listeners, one set per library signature. Each does the same work: add the
// payload to sink. The sub* twins are distinct functions (EventBus and
// kataras/go-events find a listener to remove by its code pointer, so the
// listener added and removed in BenchmarkOnOff must not share code with the
// one already registered) and subtract, so a leaked one shows in the test.
func addInt(v int)         { sink += v }
func subInt(v int)         { sink -= v }
func addAny(args ...any)   { sink += args[0].(int) }
func subAny(args ...any)   { sink -= args[0].(int) }
func checkInt(v int)       { check(v) }
func checkAny(args ...any) { check(args[0].(int)) }
func check(v int) {
	if v != payload {
		panic(fmt.Sprint("bad payload ", v))
	}
}
func listenerCounts() []int      { return []int{1, 10} }
func nameListeners(n int) string { return fmt.Sprintf("listeners=%d", n) }

// Setups, shared by the benchmarks and TestListenersRun, so the test checks
// exactly what is measured.

func newNodekit(n int, fn func(int)) *events.Emitter[int] {
	e := new(events.Emitter[int])
	for range n {
		e.On(event, fn)
	}
	return e
}

func newEventBus(n int, fn func(int)) eventbus.Bus {
	bus := eventbus.New()
	for range n {
		if err := bus.Subscribe(event, fn); err != nil {
			panic(err)
		}
	}
	return bus
}

func newKataras(n int, fn kataras.Listener) kataras.EventEmmiter {
	e := kataras.New()
	for range n {
		e.On(event, fn)
	}
	return e
}

// BenchmarkEmit measures one emit reaching n listeners, each adding the
// payload to sink, on one goroutine.
func BenchmarkEmit(b *testing.B) {
	for _, n := range listenerCounts() {
		b.Run(nameListeners(n), func(b *testing.B) {
			b.Run("lib=nodekit", func(b *testing.B) {
				e := newNodekit(n, addInt)
				b.ReportAllocs()
				for b.Loop() {
					e.Emit(event, payload)
				}
			})
			b.Run("lib=eventbus", func(b *testing.B) {
				bus := newEventBus(n, addInt)
				b.ReportAllocs()
				for b.Loop() {
					bus.Publish(event, payload)
				}
			})
			b.Run("lib=kataras", func(b *testing.B) {
				e := newKataras(n, addAny)
				b.ReportAllocs()
				for b.Loop() {
					e.Emit(event, payload)
				}
			})
		})
	}
}

// BenchmarkEmitParallel measures emits of one event from every P at once
// (b.RunParallel, GOMAXPROCS goroutines). The listeners only check the payload:
// they write nothing shared, so what scales or not is the emitter itself.
func BenchmarkEmitParallel(b *testing.B) {
	for _, n := range []int{1} {
		b.Run(nameListeners(n), func(b *testing.B) {
			b.Run("lib=nodekit", func(b *testing.B) {
				e := newNodekit(n, checkInt)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						e.Emit(event, payload)
					}
				})
			})
			b.Run("lib=eventbus", func(b *testing.B) {
				bus := newEventBus(n, checkInt)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						bus.Publish(event, payload)
					}
				})
			})
			b.Run("lib=kataras", func(b *testing.B) {
				e := newKataras(n, checkAny)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						e.Emit(event, payload)
					}
				})
			})
		})
	}
}

// BenchmarkOnOff measures adding and then removing one listener on an event
// that already has one listener, each library by its own removal API: a
// handle (nodekit) or the function itself (EventBus, kataras/go-events).
func BenchmarkOnOff(b *testing.B) {
	b.Run("lib=nodekit", func(b *testing.B) {
		e := newNodekit(1, addInt)
		b.ReportAllocs()
		for b.Loop() {
			e.Off(e.On(event, subInt))
		}
	})
	b.Run("lib=eventbus", func(b *testing.B) {
		bus := newEventBus(1, addInt)
		b.ReportAllocs()
		for b.Loop() {
			bus.Subscribe(event, subInt)
			bus.Unsubscribe(event, subInt)
		}
	})
	b.Run("lib=kataras", func(b *testing.B) {
		e := newKataras(1, addAny)
		b.ReportAllocs()
		for b.Loop() {
			e.On(event, subAny)
			e.RemoveListener(event, subAny)
		}
	})
}

// TestListenersRun checks, for every library and every setup benchmarked,
// that the listeners really run the expected number of times, so that no
// benchmark measures a no-op (a wrong event name, a dropped subscription, an
// asynchronous delivery, or an Off that silently leaves the listener behind).
func TestListenersRun(t *testing.T) {
	const emits = 100

	// delta runs emit and returns how much it changed sink.
	delta := func(emit func()) int {
		before := sink
		emit()
		return sink - before
	}

	t.Run("Emit", func(t *testing.T) {
		for _, n := range listenerCounts() {
			want := emits * n * payload
			libs := map[string]func(){
				"nodekit": func() {
					e := newNodekit(n, addInt)
					for range emits {
						e.Emit(event, payload)
					}
				},
				"eventbus": func() {
					bus := newEventBus(n, addInt)
					for range emits {
						bus.Publish(event, payload)
					}
				},
				"kataras": func() {
					e := newKataras(n, addAny)
					for range emits {
						e.Emit(event, payload)
					}
				},
			}
			for lib, emit := range libs {
				if got := delta(emit); got != want {
					t.Errorf("%s/lib=%s: listeners added %d, want %d", nameListeners(n), lib, got, want)
				}
			}
		}
	})

	t.Run("EmitParallel", func(t *testing.T) {
		// The benchmark's listeners only check the payload; here the same
		// setup counts calls, from several goroutines at once.
		const goroutines = 4
		for _, n := range []int{1} {
			var calls atomic.Int64
			countInt := func(v int) { check(v); calls.Add(1) }
			countAny := func(args ...any) { checkAny(args...); calls.Add(1) }
			libs := map[string]func(){
				"nodekit": func() { e := newNodekit(n, countInt); parallel(goroutines, emits, func() { e.Emit(event, payload) }) },
				"eventbus": func() {
					bus := newEventBus(n, countInt)
					parallel(goroutines, emits, func() { bus.Publish(event, payload) })
				},
				"kataras": func() { e := newKataras(n, countAny); parallel(goroutines, emits, func() { e.Emit(event, payload) }) },
			}
			for lib, emit := range libs {
				calls.Store(0)
				emit()
				if got, want := calls.Load(), int64(goroutines*emits*n); got != want {
					t.Errorf("%s/lib=%s: %d calls, want %d", nameListeners(n), lib, got, want)
				}
			}
		}
		checkInt(payload) // the benchmark's listeners accept the payload
		checkAny(payload)
	})

	t.Run("OnOff", func(t *testing.T) {
		// After many add/remove rounds, one emit must reach exactly the
		// original listener (+payload); a leaked subInt/subAny would cancel
		// it, a wrongly removed addInt/addAny would drop it.
		libs := map[string]func(){
			"nodekit": func() {
				e := newNodekit(1, addInt)
				for range emits {
					if !e.Off(e.On(event, subInt)) {
						t.Error("lib=nodekit: Off returned false")
					}
				}
				if c := e.ListenerCount(event); c != 1 {
					t.Errorf("lib=nodekit: %d listeners left, want 1", c)
				}
				e.Emit(event, payload)
			},
			"eventbus": func() {
				bus := newEventBus(1, addInt)
				for range emits {
					if err := bus.Subscribe(event, subInt); err != nil {
						t.Error(err)
					}
					if err := bus.Unsubscribe(event, subInt); err != nil {
						t.Error(err)
					}
				}
				bus.Publish(event, payload)
			},
			"kataras": func() {
				e := newKataras(1, addAny)
				for range emits {
					e.On(event, subAny)
					if !e.RemoveListener(event, subAny) {
						t.Error("lib=kataras: RemoveListener returned false")
					}
				}
				if c := e.ListenerCount(event); c != 1 {
					t.Errorf("lib=kataras: %d listeners left, want 1", c)
				}
				e.Emit(event, payload)
			},
		}
		for lib, run := range libs {
			if got := delta(run); got != payload {
				t.Errorf("lib=%s: one emit after on/off rounds added %d, want %d", lib, got, payload)
			}
		}
	})
}

// parallel calls emit per times on each of g goroutines at once.
func parallel(g, per int, emit func()) {
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for range per {
				emit()
			}
		})
	}
	wg.Wait()
}
