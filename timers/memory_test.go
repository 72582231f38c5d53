package timers_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/nodekit/nodekit/timers"
)

// liveHeap returns the bytes of live heap objects, after two collections.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

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
			start := liveHeap()
			for i := range ts {
				ts[i] = l.SetTimeout(noop, tc.d(i))
			}
			armed := liveHeap()
			per := (armed - start) / int64(n)
			if tc.perTimer > 0 && per > tc.perTimer {
				t.Errorf("a live timer costs %d bytes, want at most %d", per, tc.perTimer)
			}
			for _, tm := range ts {
				tm.Clear()
			}
			clear(ts) // the handles: the program's, not the loop's
			kept := liveHeap() - start
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
