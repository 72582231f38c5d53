package timers_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/timers"
	"pgregory.net/rapid"
)

// heapSlack is how far the live heap may be from where it started once the
// work is gone: the runtime's own noise, far below what any of the leaks
// these tests catch kept (megabytes).
const heapSlack = 512 << 10

// TestTimerMemoryFollowsWork arms a million timers, weighs them, clears
// them all and requires the loop's memory back where it started: with
// durations computed as a server computes them (time.Until a deadline,
// which almost never repeats a nanosecond count; a live timer must then cost
// its 64 bytes, not a list of its own), and with 250,000 distinct
// whole-millisecond durations, as many lists at once.
func TestTimerMemoryFollowsWork(t *testing.T) {
	if testing.Short() {
		t.Skip("a million timers: skipped in -short mode")
	}
	for _, tc := range []struct {
		name     string
		n        int
		d        func(i int) time.Duration
		perTimer int64 // the most a live timer may cost, in bytes
	}{
		{"computed", 1_000_000, func(i int) time.Duration { return 30*time.Second - time.Duration(i)*37 }, 72},
		{"distinct ms", 250_000, func(i int) time.Duration { return time.Duration(i+1) * time.Millisecond }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l timers.Loop
			n := tc.n
			ts := make([]*timers.Timer, n)
			l.SetTimeout(noop, time.Second).Clear() // the loop's own first-use state
			start := memtest.LiveHeap()
			for i := range ts {
				ts[i] = l.SetTimeout(noop, tc.d(i))
			}
			armed := memtest.LiveHeap()
			per := (armed - start) / int64(n)
			if tc.perTimer > 0 && per > tc.perTimer {
				t.Errorf("a live timer costs %d bytes, want at most %d", per, tc.perTimer)
			}
			for _, tm := range ts {
				tm.Clear()
			}
			clear(ts) // the handles: the program's, not the loop's
			kept := memtest.LiveHeap() - start
			t.Logf("%d B per live timer; %d KiB kept after clearing them", per, kept>>10)
			if kept > heapSlack {
				t.Errorf("after clearing %d timers the loop keeps %d KiB, want at most %d KiB",
					n, kept>>10, heapSlack>>10)
			}
			runtime.KeepAlive(&l)
			runtime.KeepAlive(ts)
		})
	}
}

// TestSetClearKeepsOneList sets and clears a million timeouts of as many
// whole-millisecond durations, one or two live at a time, as a program does
// whose timeouts are computed: the loop keeps the emptied list it last armed
// into, for the next timeout of that duration, and must keep no more than
// that one, however many durations went through.
func TestSetClearKeepsOneList(t *testing.T) {
	if testing.Short() {
		t.Skip("a million durations: skipped in -short mode")
	}
	const n = 1_000_000
	d := func(i int) time.Duration { return time.Duration(i%(1<<31-2)+1) * time.Millisecond }
	for _, tc := range []struct {
		name string
		each func(l *timers.Loop, i int)
	}{
		{"one at a time", func(l *timers.Loop, i int) { l.SetTimeout(noop, d(i)).Clear() }},
		{"two, cleared in order", func(l *timers.Loop, i int) {
			a, b := l.SetTimeout(noop, d(2*i)), l.SetTimeout(noop, d(2*i+1))
			a.Clear()
			b.Clear()
		}},
		{"two, last cleared first", func(l *timers.Loop, i int) {
			a, b := l.SetTimeout(noop, d(2*i)), l.SetTimeout(noop, d(2*i+1))
			b.Clear()
			a.Clear()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l timers.Loop
			l.SetTimeout(noop, time.Second).Clear() // the loop's own first-use state
			start := memtest.LiveHeap()
			for i := range n {
				tc.each(&l, i)
			}
			kept := memtest.LiveHeap() - start
			t.Logf("%d KiB kept after %d durations", kept>>10, n)
			if kept > heapSlack {
				t.Errorf("after setting and clearing timeouts of %d durations the loop keeps %d KiB, want at most %d KiB",
					n, kept>>10, heapSlack>>10)
			}
			// The kept list must not keep the loop alive.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := l.Run(ctx); err != nil {
				t.Errorf("Run() = %v, want nil: nothing is scheduled", err)
			}
			runtime.KeepAlive(&l)
		})
	}
}

// TestQueueMemoryFollowsBacklog runs a long stream of callbacks through each
// of the loop's queues and requires its memory bounded by what is queued at
// once: two interleaved chains of ticks (or of microtasks), where the queue
// never empties but never holds more than two, weighed at the chains' last
// step, while the loop runs; and a burst of immediates (or of posts) queued
// at once, weighed once the loop is idle again.
func TestQueueMemoryFollowsBacklog(t *testing.T) {
	const n = 250_000
	chains := func(queue func(*timers.Loop, func())) func(t *testing.T) {
		return func(t *testing.T) {
			var l timers.Loop
			start := memtest.LiveHeap()
			var kept int64
			for range 2 {
				k := 0
				var step func()
				step = func() {
					if k++; k < n {
						queue(&l, step)
					} else if kept == 0 {
						kept = memtest.LiveHeap() - start // the other chain's last step is queued
					}
				}
				queue(&l, step)
			}
			if err := l.Run(t.Context()); err != nil {
				t.Fatalf("Run() = %v", err)
			}
			t.Logf("%d KiB kept with one callback queued", kept>>10)
			if kept > heapSlack {
				t.Errorf("with one callback queued after %d, the loop keeps %d KiB, want at most %d KiB",
					2*n, kept>>10, heapSlack>>10)
			}
		}
	}
	burst := func(queue func(*timers.Loop, func())) func(t *testing.T) {
		return func(t *testing.T) {
			var l timers.Loop
			start := memtest.LiveHeap()
			for range n {
				queue(&l, noop)
			}
			if err := l.Run(t.Context()); err != nil {
				t.Fatalf("Run() = %v", err)
			}
			kept := memtest.LiveHeap() - start
			t.Logf("%d KiB kept once idle", kept>>10)
			if kept > heapSlack {
				t.Errorf("idle after a burst of %d, the loop keeps %d KiB, want at most %d KiB",
					n, kept>>10, heapSlack>>10)
			}
			runtime.KeepAlive(&l)
		}
	}
	t.Run("ticks", chains((*timers.Loop).NextTick))
	t.Run("microtasks", chains((*timers.Loop).QueueMicrotask))
	t.Run("immediates", burst(func(l *timers.Loop, fn func()) { l.SetImmediate(fn) }))
	t.Run("posts", burst(func(l *timers.Loop, fn func()) {
		if err := l.Post(fn); err != nil {
			t.Fatalf("Post() = %v", err)
		}
	}))
	t.Run("ticks burst", burst((*timers.Loop).NextTick))
}

// TestQueueOrderAcrossResizes checks that the tick and microtask queues stay
// first in, first out while their rings grow and shrink: callbacks that each
// queue a drawn number of others, up to thousands at once, must run in the
// order they were queued. The first case makes the ring shrink while its
// contents wrap around its end: a burst of 3000 grows it to 4096 slots, 2000
// callbacks that queue one each carry its end past the last slot, and the
// drain shrinks it.
func TestQueueOrderAcrossResizes(t *testing.T) {
	wrapped := []int{3000}
	for range 2000 {
		wrapped = append(wrapped, 1)
	}
	for _, micro := range []bool{false, true} {
		if err := checkFIFO(wrapped, micro); err != nil {
			t.Fatalf("burst, steady, drain (microtasks %v): %v", micro, err)
		}
	}
	rapid.Check(t, func(rt *rapid.T) {
		fanout := []int{rapid.IntRange(0, 5000).Draw(rt, "burst")}
		for range rapid.IntRange(0, 5000).Draw(rt, "steady") {
			fanout = append(fanout, 1)
		}
		fanout = append(fanout, rapid.SliceOfN(rapid.SampledFrom([]int{0, 1, 2, 70}), 0, 100).Draw(rt, "more")...)
		if err := checkFIFO(fanout, rapid.Bool().Draw(rt, "microtasks")); err != nil {
			rt.Fatal(err)
		}
	})
}

// checkFIFO queues three ticks (or microtasks), each of which, the i-th to
// be queued, queues fanout[i] more, and reports an error unless they ran in
// the order they were queued.
func checkFIFO(fanout []int, micro bool) error {
	var l timers.Loop
	queue := l.NextTick
	if micro {
		queue = l.QueueMicrotask
	}
	var ran []int
	queued := 0
	var push func()
	push = func() {
		id := queued
		queued++
		queue(func() {
			ran = append(ran, id)
			if id < len(fanout) {
				for range fanout[id] {
					push()
				}
			}
		})
	}
	for range 3 {
		push()
	}
	if err := l.Run(context.Background()); err != nil {
		return fmt.Errorf("Run() = %v", err)
	}
	for i, id := range ran {
		if id != i {
			return fmt.Errorf("callback %d ran in place %d (of %d)", id, i, len(ran))
		}
	}
	if len(ran) != queued {
		return fmt.Errorf("%d callbacks ran, %d were queued", len(ran), queued)
	}
	return nil
}
