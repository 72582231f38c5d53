package events_test

import (
	"fmt"
	"runtime"
	"testing"
	"weak"

	"github.com/nodekit/nodekit/events"
	"github.com/nodekit/nodekit/internal/memtest"
)

// Emit allocates nothing: not for its lookup (among a few names or many), not
// for its snapshot, not for "error" with its monitors.
func TestEmitAllocatesNothing(t *testing.T) {
	for _, names := range []int{1, 100} {
		for _, listeners := range []int{0, 1, 10} {
			var e events.Emitter[int]
			e.SetMaxListeners(0)
			for i := range names - 1 {
				e.On(fmt.Sprint("other-", i), func(int) {})
			}
			sum := 0
			for range listeners {
				e.On("tick", func(v int) { sum += v })
			}
			e.On(events.ErrorMonitor, func(v int) { sum += v })
			e.On(events.ErrorEvent, func(v int) { sum += v })
			allocs := testing.AllocsPerRun(1000, func() {
				e.Emit("tick", 1)
				e.Emit("absent", 1)
				e.Emit(events.ErrorEvent, 1)
			})
			if allocs != 0 {
				t.Errorf("%d names, %d listeners: Emit allocated %v times, want 0", names, listeners, allocs)
			}
		}
	}
}

// Adding a listener takes its handle and a new list; removing the listener
// added last goes back to the list before it, so it allocates nothing.
func TestOnOffAllocations(t *testing.T) {
	var e events.Emitter[int]
	e.On("tick", func(int) {})
	fn := func(int) {}
	if allocs := testing.AllocsPerRun(1000, func() { e.Off(e.On("tick", fn)) }); allocs > 2 {
		t.Errorf("On+Off of the newest listener allocated %v times, want ≤ 2", allocs)
	}
	var before, after runtime.MemStats
	mallocs := uint64(0)
	for range 100 {
		h := e.On("tick", fn)
		runtime.ReadMemStats(&before)
		removed := e.Off(h)
		runtime.ReadMemStats(&after)
		if !removed {
			t.Fatal("Off = false")
		}
		mallocs += after.Mallocs - before.Mallocs
	}
	if mallocs != 0 {
		t.Errorf("100 Offs of the newest listener allocated %d times, want 0", mallocs)
	}
}

// A removed listener is unreachable from the emitter, whichever way it was
// removed (the newest, going back to an earlier list, or another, copying the
// list), so whatever its function holds can be collected.
func TestRemovedListenersAreCollected(t *testing.T) {
	type payload struct{ _ [64]byte }
	for _, order := range [][]int{{5, 4, 3, 2, 1, 0}, {0, 1, 2, 3, 4, 5}, {5, 4, 1, 3, 0, 2}, {2, 5, 3, 4, 0, 1}} {
		var e events.Emitter[int]
		e.On("x", func(int) {})
		var ptrs []weak.Pointer[payload]
		var hs []*events.Listener
		for range order {
			p := new(payload)
			ptrs = append(ptrs, weak.Make(p))
			hs = append(hs, e.On("x", func(int) { runtime.KeepAlive(p) }))
		}
		e.Emit("x", 1)
		for n, i := range order {
			if !e.Off(hs[i]) {
				t.Fatalf("order %v: Off(%d) = false", order, i)
			}
			runtime.GC()
			for j := range ptrs {
				removed := false
				for _, k := range order[:n+1] {
					removed = removed || k == j
				}
				if got := ptrs[j].Value() != nil; got == removed {
					t.Fatalf("order %v, after removing %v: listener %d reachable = %v", order, order[:n+1], j, got)
				}
			}
		}
	}
}

// Many listeners on one event, added one by one: the list kept to undo the
// newest addition (its head) is the only copy kept, not one per addition.
func TestManyListenersMemory(t *testing.T) {
	n := 5_000
	if testing.Short() {
		n = 2_000
	}
	var e events.Emitter[int]
	e.SetMaxListeners(0)
	fn := func(int) {}
	before := memtest.LiveHeap()
	hs := make([]*events.Listener, n)
	for i := range hs {
		hs[i] = e.On("x", fn)
	}
	// A handle is 24 bytes, a pointer to it in hs 8 and a list 24 bytes a
	// listener; allow three lists.
	if grown, limit := memtest.LiveHeap()-before, int64(n)*(24+8+3*24); grown > limit {
		t.Fatalf("%d listeners take %d KiB, want < %d KiB", n, grown>>10, limit>>10)
	}
	for _, h := range hs {
		e.Off(h)
	}
	if got := e.ListenerCount("x"); got != 0 {
		t.Fatalf("ListenerCount = %d after removing all", got)
	}
}
