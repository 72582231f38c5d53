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
