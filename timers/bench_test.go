package timers_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nodekit/nodekit/timers"
)

func noop() {}

// BenchmarkSetClear arms a timer and clears it: a 30s one with many timers
// of the same duration live (same), one whose duration is computed as
// time.Until a deadline, which never repeats a nanosecond count (computed),
// a 1s one on a loop with no other timer (idle), and the same from a
// callback of that loop while it runs (idle-on-loop), as Node's
// clearTimeout(setTimeout(f, 1000)) runs, with the iteration's cached time.
func BenchmarkSetClear(b *testing.B) {
	b.Run("same", func(b *testing.B) {
		var l timers.Loop
		for range 1000 {
			l.SetTimeout(noop, 30*time.Second)
		}
		b.ReportAllocs()
		for b.Loop() {
			l.SetTimeout(noop, 30*time.Second).Clear()
		}
	})
	b.Run("computed", func(b *testing.B) {
		var l timers.Loop
		for i := range 1000 {
			l.SetTimeout(noop, 30*time.Second-time.Duration(i)*37)
		}
		b.ReportAllocs()
		d := 30 * time.Second
		for b.Loop() {
			if d -= 37; d < 29*time.Second {
				d = 30 * time.Second
			}
			l.SetTimeout(noop, d).Clear()
		}
	})
	b.Run("idle", func(b *testing.B) {
		var l timers.Loop
		b.ReportAllocs()
		for b.Loop() {
			l.SetTimeout(noop, time.Second).Clear()
		}
	})
	b.Run("idle-on-loop", func(b *testing.B) {
		var l timers.Loop
		b.ReportAllocs()
		l.SetImmediate(func() {
			for b.Loop() {
				l.SetTimeout(noop, time.Second).Clear()
			}
		})
		if err := l.Run(b.Context()); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkAfterFuncStop is BenchmarkSetClear/idle for time.AfterFunc and
// Stop, the standard library's way.
func BenchmarkAfterFuncStop(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		time.AfterFunc(time.Second, noop).Stop()
	}
}

// BenchmarkRefresh restarts one of many live 30s timers, as an idle timeout
// does on every read, from a callback on the loop (where the time is the
// iteration's, cached) and from another goroutine (which reads the clock).
func BenchmarkRefresh(b *testing.B) {
	setup := func() (*timers.Loop, []*timers.Timer) {
		l := new(timers.Loop)
		ts := make([]*timers.Timer, 1024)
		for i := range ts {
			ts[i] = l.SetTimeout(noop, 30*time.Second)
			ts[i].Unref() // let Run end
		}
		return l, ts
	}
	b.Run("on-loop", func(b *testing.B) {
		l, ts := setup()
		b.ReportAllocs()
		l.SetImmediate(func() {
			i := 0
			for b.Loop() {
				ts[i&1023].Refresh()
				i++
			}
		})
		if err := l.Run(b.Context()); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("off-loop", func(b *testing.B) {
		_, ts := setup()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			ts[i&1023].Refresh()
			i++
		}
	})
}

// BenchmarkTouch records activity on a timer from another goroutine.
func BenchmarkTouch(b *testing.B) {
	var l timers.Loop
	t := l.SetTimeout(noop, 30*time.Second)
	b.ReportAllocs()
	for b.Loop() {
		t.Touch()
	}
}

// BenchmarkFire fires n due timers of one duration: the cost per timer
// should not grow with n. Arming and waiting are not timed.
func BenchmarkFire(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				var l timers.Loop
				for range n {
					l.SetTimeout(noop, time.Millisecond)
				}
				time.Sleep(2 * time.Millisecond) // all due when Run starts
				b.StartTimer()
				if err := l.Run(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/timer")
		})
	}
}

// BenchmarkMemory reports the heap bytes that a live timer costs.
func BenchmarkMemory(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var l timers.Loop
		ts := make([]*timers.Timer, n)
		for i := range ts {
			ts[i] = l.SetTimeout(noop, 30*time.Second)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc-uint64(n*8))/n, "B/timer")
		runtime.KeepAlive(ts)
	}
}

// BenchmarkImmediate queues and runs immediates.
func BenchmarkImmediate(b *testing.B) {
	var l timers.Loop
	b.ReportAllocs()
	for b.Loop() {
		l.SetImmediate(noop)
		if err := l.Run(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNextTick queues ticks from a callback.
func BenchmarkNextTick(b *testing.B) {
	var l timers.Loop
	b.ReportAllocs()
	for b.Loop() {
		for range 100 {
			l.NextTick(noop)
		}
		if err := l.Run(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
