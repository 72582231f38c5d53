package events_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nodekit/nodekit/events"
	"github.com/nodekit/nodekit/internal/leaktest"
)

// Emits on many goroutines while others add and remove listeners (on the same
// event and on fresh names) and listeners re-enter the emitter: every
// permanent listener sees every emit exactly once, and nothing deadlocks.
func TestConcurrentEmitWithChurn(t *testing.T) {
	leaktest.Check(t)
	const emitters, churners, rounds, permanent = 4, 4, 2000, 3
	var e events.Emitter[int]
	e.SetMaxListeners(0)
	var hits [permanent]atomic.Int64
	for i := range permanent {
		e.On("tick", func(int) { hits[i].Add(1) })
	}
	e.On("tick", func(v int) {
		if v%100 == 0 { // re-entrant work from inside a listener
			h := e.On(fmt.Sprint("inner-", v), func(int) {})
			e.Emit(fmt.Sprint("inner-", v), v)
			e.Off(h)
		}
	})

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := range churners {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				h := e.On("tick", func(int) {})
				o := e.Once("tick", func(int) {})
				n := e.On(fmt.Sprintf("name-%d-%d", c, i%50), func(int) {})
				e.Off(h)
				e.Off(o)
				e.Off(n)
			}
		})
	}
	var emitWG sync.WaitGroup
	for range emitters {
		emitWG.Go(func() {
			for i := range rounds {
				if !e.Emit("tick", i) {
					t.Error("Emit(tick) = false with permanent listeners")
					return
				}
			}
		})
	}
	emitWG.Wait()
	close(stop)
	wg.Wait()

	for i := range permanent {
		if got := hits[i].Load(); got != emitters*rounds {
			t.Errorf("permanent listener %d ran %d times, want %d", i, got, emitters*rounds)
		}
	}
	if n := e.ListenerCount("tick"); n != permanent+1 {
		t.Errorf("ListenerCount(tick) = %d after churn, want %d", n, permanent+1)
	}
	if names := e.EventNames(); len(names) != 1 {
		t.Errorf("EventNames() = %q after churn, want only tick", names)
	}
}

// Once listeners run exactly once however many goroutines emit at once.
func TestConcurrentOnceExactlyOnce(t *testing.T) {
	leaktest.Check(t)
	const goroutines, listeners, rounds = 8, 50, 20
	for range rounds {
		var e events.Emitter[int]
		e.SetMaxListeners(0)
		var runs [listeners]atomic.Int32
		for i := range listeners {
			e.Once("go", func(int) { runs[i].Add(1) })
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range goroutines {
			wg.Go(func() {
				<-start
				e.Emit("go", g)
			})
		}
		close(start)
		wg.Wait()
		for i := range listeners {
			if n := runs[i].Load(); n != 1 {
				t.Fatalf("once listener %d ran %d times, want 1", i, n)
			}
		}
		if n := e.ListenerCount("go"); n != 0 {
			t.Fatalf("ListenerCount = %d after all once listeners ran, want 0", n)
		}
	}
}

// Once and On on real goroutines leave no goroutine and no listener behind,
// whether they end by an event, a break or their context.
func TestContextHelpersLeakNothing(t *testing.T) {
	leaktest.Check(t)
	const onces, breakers, waiters = 20, 10, 10
	var e events.Emitter[int]
	e.SetMaxListeners(0)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	got := make(chan int, onces+breakers+waiters)
	for range onces {
		wg.Go(func() {
			v, err := events.Once(ctx, &e, "x")
			if err != nil {
				t.Errorf("Once() error = %v", err)
			}
			got <- v
		})
	}
	for range breakers {
		wg.Go(func() {
			sum := 0
			for v := range events.On(ctx, &e, "x") {
				if sum += v; sum == 3 {
					break
				}
			}
			got <- sum
		})
	}
	for range waiters {
		wg.Go(func() {
			sum := 0
			for v := range events.On(ctx, &e, "x") {
				sum += v
			}
			got <- sum
		})
	}
	for e.ListenerCount("x") < onces+breakers+waiters {
		runtime.Gosched() // until every goroutine has registered
	}
	for range 3 {
		e.Emit("x", 1)
	}
	cancel()
	wg.Wait()
	close(got)
	total := 0
	for v := range got {
		total += v
	}
	// Each Once saw 1; every loop saw all 3 emits (the waiters drain their
	// buffer before ending).
	if want := onces + 3*(breakers+waiters); total != want {
		t.Errorf("values received sum to %d, want %d", total, want)
	}
	if names := e.EventNames(); len(names) != 0 {
		t.Errorf("listeners left on %q", names)
	}
}

// Goroutines add and remove listeners of one event at once, without a lock:
// no addition is lost, each removal happens once, and an event whose only
// listener comes and goes on several goroutines at once ends up with none.
func TestConcurrentOnOffOneEvent(t *testing.T) {
	leaktest.Check(t)
	const goroutines, per = 8, 300
	var e events.Emitter[int]
	e.SetMaxListeners(0)
	var wg sync.WaitGroup

	// The only listener of "solo", added and removed on every goroutine:
	// its entry dies and is made again while the others use it.
	for range goroutines {
		wg.Go(func() {
			for i := range per {
				h := e.On("solo", func(int) {})
				if i%3 == 0 {
					e.Emit("solo", i)
				}
				if !e.Off(h) {
					t.Error("Off of a registered listener = false")
					return
				}
				if e.Off(h) {
					t.Error("a second Off = true")
					return
				}
			}
		})
	}
	wg.Wait()
	if n, names := e.ListenerCount("solo"), e.EventNames(); n != 0 || len(names) != 0 {
		t.Fatalf("after the churn: ListenerCount(solo) = %d, EventNames() = %q; want 0 and none", n, names)
	}

	// Many listeners of "x" added at once, each of every kind, then removed
	// at once in another order: each runs once per Emit while registered.
	var calls [goroutines]atomic.Int64
	hs := make([][]*events.Listener, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			fn := func(int) { calls[g].Add(1) }
			for i := range per {
				switch i % 3 {
				case 0:
					hs[g] = append(hs[g], e.On("x", fn))
				case 1:
					hs[g] = append(hs[g], e.Prepend("x", fn))
				default:
					hs[g] = append(hs[g], e.PrependOnce("x", fn))
				}
			}
		})
	}
	wg.Wait()
	if n := e.ListenerCount("x"); n != goroutines*per {
		t.Fatalf("ListenerCount(x) = %d after concurrent additions, want %d", n, goroutines*per)
	}
	e.Emit("x", 0)
	for g := range goroutines {
		if n := calls[g].Load(); n != per {
			t.Errorf("goroutine %d's listeners ran %d times, want %d", g, n, per)
		}
	}
	for g := range goroutines {
		wg.Go(func() {
			for i := range hs[g] {
				h := hs[g][(i*7)%per] // 7 and per are coprime: each once
				if got, want := e.Off(h), !h.Once(); got != want {
					t.Errorf("Off = %v, want %v (once: %v)", got, want, h.Once())
					return
				}
			}
		})
	}
	wg.Wait()
	if n, names := e.ListenerCount("x"), e.EventNames(); n != 0 || len(names) != 0 {
		t.Fatalf("after removing all: ListenerCount(x) = %d, EventNames() = %q", n, names)
	}
}

// Several goroutines remove the same listener at once: one of them does.
func TestConcurrentOffOfOneListener(t *testing.T) {
	const goroutines, rounds = 4, 500
	var e events.Emitter[int]
	for i := range rounds {
		var others []*events.Listener
		for range i % 3 { // alone, or beside one or two others
			others = append(others, e.On("x", func(int) {}))
		}
		h := e.On("x", func(int) {})
		var removed atomic.Int32
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				if e.Off(h) {
					removed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := removed.Load(); n != 1 {
			t.Fatalf("round %d: %d of %d Offs removed the listener, want 1", i, n, goroutines)
		}
		for _, o := range others {
			e.Off(o)
		}
		if n := e.ListenerCount("x"); n != 0 {
			t.Fatalf("round %d: %d listeners left", i, n)
		}
	}
}
