package benchmarks

// Side-by-side benchmarks of github.com/nodekit/nodekit/timers against
// time.AfterFunc and go-zero's TimingWheel, with a million live 30-second
// timers, the load of a server's idle timeouts, and of a timeout set and
// cleared on an idle loop. Names end in /lib=NAME, as in events_test.go:
//
//	go test -run '^$' -bench 'Timer|Timeout' -count 6 | tee timers.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /lib timers.txt

import (
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/nodekit/nodekit/timers"
	"github.com/zeromicro/go-zero/core/collection"
)

const (
	// liveTimers is the number of timers already armed when each operation
	// is measured, and the number BenchmarkTimerMemory weighs.
	liveTimers = 1_000_000
	// timerTimeout is every benchmarked timer's duration: none fires while
	// a benchmark runs.
	timerTimeout = 30 * time.Second
	// timerBatch is how many operations BenchmarkTimerCreate and
	// BenchmarkTimerClear measure before pausing the clock to undo them
	// (clear the timers created, re-arm those cleared), so that the number
	// of live timers stays within timerBatch of liveTimers however long the
	// benchmark runs.
	timerBatch = 1 << 16
	// wheelTick and wheelSlots configure go-zero's TimingWheel as go-zero
	// itself does for its caches (collection.Cache, stores/cache): one slot
	// per second, 300 slots. A 30 s timer fires on the tick 30 s after it
	// was set, so up to one tick early.
	wheelTick  = time.Second
	wheelSlots = 300
)

// timerNoop is the callback of every benchmarked timer. It is one function
// shared by all of them, so no library is charged for a closure per timer.
func timerNoop()                 {}
func timerNoopKV(key, value any) {}

// Setups, one type per library, shared by the benchmarks and
// TestTimerSetups. Each holds slots 0..size-1 (the wheel: keys, any int) and
// arms the first n at construction; set(i) arms the timer of slot i, refresh(i) restarts it with
// its full duration, clear(i) cancels it, and stop cancels everything, so no
// timer or goroutine outlives a benchmark. The methods are small enough to be
// inlined: the benchmarks call each library's API directly. settle waits
// until the library has done the work of the calls made so far (only the
// wheel defers it).

// nodekitTimers: one timers.Loop, which is not running (arming a timer needs
// no Run; Refresh then reads the clock, as from another goroutine).
type nodekitTimers struct {
	loop *timers.Loop
	ts   []*timers.Timer
	d    time.Duration
	fn   func()
}

func newNodekitTimers(size, n int, d time.Duration, fn func()) *nodekitTimers {
	s := &nodekitTimers{loop: new(timers.Loop), ts: make([]*timers.Timer, size), d: d, fn: fn}
	for i := range n {
		s.set(i)
	}
	return s
}

func (s *nodekitTimers) set(i int)     { s.ts[i] = s.loop.SetTimeout(s.fn, s.d) }
func (s *nodekitTimers) refresh(i int) { s.ts[i].Refresh() }
func (s *nodekitTimers) clear(i int)   { s.ts[i].Clear() }
func (s *nodekitTimers) settle()       {}
func (s *nodekitTimers) stop() {
	for _, t := range s.ts {
		if t != nil {
			t.Clear()
		}
	}
}

// afterFuncTimers: time.AfterFunc, restarted with Reset and cancelled with
// Stop; the runtime keeps them in per-P heaps and runs each callback on its
// own goroutine.
type afterFuncTimers struct {
	ts []*time.Timer
	d  time.Duration
	fn func()
}

func newAfterFuncTimers(size, n int, d time.Duration, fn func()) *afterFuncTimers {
	s := &afterFuncTimers{ts: make([]*time.Timer, size), d: d, fn: fn}
	for i := range n {
		s.set(i)
	}
	return s
}

func (s *afterFuncTimers) set(i int)     { s.ts[i] = time.AfterFunc(s.d, s.fn) }
func (s *afterFuncTimers) refresh(i int) { s.ts[i].Reset(s.d) }
func (s *afterFuncTimers) clear(i int)   { s.ts[i].Stop() }
func (s *afterFuncTimers) settle()       {}
func (s *afterFuncTimers) stop() {
	for _, t := range s.ts {
		if t != nil {
			t.Stop()
		}
	}
}

// wheelTimers: go-zero's collection.TimingWheel. Timers are identified by a
// key (here the slot number, boxed into an any) and handled by the wheel's
// own goroutine: SetTimer, MoveTimer and RemoveTimer send the request on an
// unbuffered channel and return once that goroutine has taken it, so at most
// one request is still being processed when a call returns.
type wheelTimers struct {
	tw *collection.TimingWheel
	d  time.Duration
}

func newWheelTimers(n int, d, tick time.Duration, exec collection.Execute) *wheelTimers {
	tw, err := collection.NewTimingWheel(tick, wheelSlots, exec)
	if err != nil {
		panic(err)
	}
	s := &wheelTimers{tw: tw, d: d}
	for i := range n {
		s.set(i)
	}
	s.settle()
	return s
}

func (s *wheelTimers) set(i int)     { mustWheel(s.tw.SetTimer(i, nil, s.d)) }
func (s *wheelTimers) refresh(i int) { mustWheel(s.tw.MoveTimer(i, s.d)) }
func (s *wheelTimers) clear(i int)   { mustWheel(s.tw.RemoveTimer(i)) }

// settle returns once the wheel's goroutine has processed every earlier
// request: it is back in its select loop when it takes this one (the removal
// of a key never used).
func (s *wheelTimers) settle() { s.clear(-1) }
func (s *wheelTimers) stop()   { s.tw.Stop() }

// undoBatch clears, with the clock stopped, the timerBatch timers a Create
// benchmark has just armed in the slots after the liveTimers live ones.
func undoBatch(b *testing.B, clear func(int)) {
	b.StopTimer()
	for k := range timerBatch {
		clear(liveTimers + k)
	}
	b.StartTimer()
}

func mustWheel(err error) {
	if err != nil {
		panic(err)
	}
}

// BenchmarkTimerCreate measures arming one 30 s timer while liveTimers are
// live: nodekit's SetTimeout, time.AfterFunc, the wheel's SetTimer. Every
// timerBatch operations the clock stops while the timers just created are
// cleared again (undoBatch).
func BenchmarkTimerCreate(b *testing.B) {
	b.Run("lib=nodekit", func(b *testing.B) {
		s := newNodekitTimers(liveTimers+timerBatch, liveTimers, timerTimeout, timerNoop)
		defer s.stop()
		b.ReportAllocs()
		j := 0
		for b.Loop() {
			s.set(liveTimers + j)
			if j++; j == timerBatch {
				undoBatch(b, s.clear)
				j = 0
			}
		}
	})
	b.Run("lib=afterfunc", func(b *testing.B) {
		s := newAfterFuncTimers(liveTimers+timerBatch, liveTimers, timerTimeout, timerNoop)
		defer s.stop()
		b.ReportAllocs()
		j := 0
		for b.Loop() {
			s.set(liveTimers + j)
			if j++; j == timerBatch {
				undoBatch(b, s.clear)
				j = 0
			}
		}
	})
	b.Run("lib=wheel", func(b *testing.B) {
		s := newWheelTimers(liveTimers, timerTimeout, wheelTick, timerNoopKV)
		defer s.stop()
		b.ReportAllocs()
		j := 0
		for b.Loop() {
			s.set(liveTimers + j)
			if j++; j == timerBatch {
				undoBatch(b, s.clear)
				j = 0
			}
		}
		s.settle()
	})
}

// BenchmarkTimerRefresh measures restarting one of liveTimers live timers
// with its full duration, round robin (an idle timeout on every read):
// nodekit's Refresh, (*time.Timer).Reset, the wheel's MoveTimer.
func BenchmarkTimerRefresh(b *testing.B) {
	b.Run("lib=nodekit", func(b *testing.B) {
		s := newNodekitTimers(liveTimers, liveTimers, timerTimeout, timerNoop)
		defer s.stop()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.refresh(i)
			if i++; i == liveTimers {
				i = 0
			}
		}
	})
	b.Run("lib=afterfunc", func(b *testing.B) {
		s := newAfterFuncTimers(liveTimers, liveTimers, timerTimeout, timerNoop)
		defer s.stop()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.refresh(i)
			if i++; i == liveTimers {
				i = 0
			}
		}
	})
	b.Run("lib=wheel", func(b *testing.B) {
		s := newWheelTimers(liveTimers, timerTimeout, wheelTick, timerNoopKV)
		defer s.stop()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.refresh(i)
			if i++; i == liveTimers {
				i = 0
			}
		}
		s.settle()
	})
}

// BenchmarkTimerClear measures cancelling one of liveTimers live timers,
// round robin: nodekit's Clear, (*time.Timer).Stop, the wheel's RemoveTimer.
// Every timerBatch operations the clock stops while the timers just cleared
// are replaced by new ones (redoBatch), so none is cleared twice.
func BenchmarkTimerClear(b *testing.B) {
	// redoBatch re-arms the timerBatch slots before next, round robin.
	redoBatch := func(b *testing.B, set func(int), next int) {
		b.StopTimer()
		for k := range timerBatch {
			set((next - timerBatch + k + liveTimers) % liveTimers)
		}
		b.StartTimer()
	}
	b.Run("lib=nodekit", func(b *testing.B) {
		s := newNodekitTimers(liveTimers, liveTimers, timerTimeout, timerNoop)
		defer s.stop()
		b.ReportAllocs()
		i, j := 0, 0
		for b.Loop() {
			s.clear(i)
			if i++; i == liveTimers {
				i = 0
			}
			if j++; j == timerBatch {
				redoBatch(b, s.set, i)
				j = 0
			}
		}
	})
	b.Run("lib=afterfunc", func(b *testing.B) {
		s := newAfterFuncTimers(liveTimers, liveTimers, timerTimeout, timerNoop)
		defer s.stop()
		b.ReportAllocs()
		i, j := 0, 0
		for b.Loop() {
			s.clear(i)
			if i++; i == liveTimers {
				i = 0
			}
			if j++; j == timerBatch {
				redoBatch(b, s.set, i)
				j = 0
			}
		}
	})
	b.Run("lib=wheel", func(b *testing.B) {
		s := newWheelTimers(liveTimers, timerTimeout, wheelTick, timerNoopKV)
		defer s.stop()
		b.ReportAllocs()
		i, j := 0, 0
		for b.Loop() {
			s.clear(i)
			if i++; i == liveTimers {
				i = 0
			}
			if j++; j == timerBatch {
				redoBatch(b, s.set, i)
				j = 0
			}
		}
		s.settle()
	})
}

// BenchmarkTimerCreateComputed is BenchmarkTimerCreate (nodekit and
// afterfunc) with each duration computed as a server computes it,
// time.Until of a deadline 30 s ahead, so that durations almost never repeat
// a nanosecond count (nodekit counts whole milliseconds, as Node does, so
// they share its per-duration lists).
func BenchmarkTimerCreateComputed(b *testing.B) {
	b.Run("lib=nodekit", func(b *testing.B) {
		s := newNodekitTimers(liveTimers+timerBatch, liveTimers, timerTimeout, timerNoop)
		defer s.stop()
		deadline := time.Now().Add(timerTimeout)
		b.ReportAllocs()
		j := 0
		for b.Loop() {
			s.ts[liveTimers+j] = s.loop.SetTimeout(s.fn, time.Until(deadline))
			if j++; j == timerBatch {
				undoBatch(b, s.clear)
				j = 0
			}
		}
	})
	b.Run("lib=afterfunc", func(b *testing.B) {
		s := newAfterFuncTimers(liveTimers+timerBatch, liveTimers, timerTimeout, timerNoop)
		defer s.stop()
		deadline := time.Now().Add(timerTimeout)
		b.ReportAllocs()
		j := 0
		for b.Loop() {
			s.ts[liveTimers+j] = time.AfterFunc(time.Until(deadline), s.fn)
			if j++; j == timerBatch {
				undoBatch(b, s.clear)
				j = 0
			}
		}
	})
}

// BenchmarkTimeoutSetClear measures arming a 1 s timeout and cancelling it
// at once with no other timer live, the cost of a timeout guarding an
// operation that finishes in time: nodekit's SetTimeout and Clear on an idle
// Loop, time.AfterFunc and Stop.
func BenchmarkTimeoutSetClear(b *testing.B) {
	b.Run("lib=nodekit", func(b *testing.B) {
		var l timers.Loop
		b.ReportAllocs()
		for b.Loop() {
			l.SetTimeout(timerNoop, time.Second).Clear()
		}
	})
	b.Run("lib=afterfunc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			time.AfterFunc(time.Second, timerNoop).Stop()
		}
	})
}

// BenchmarkTimerMemory reports the heap bytes that one live timer costs, with
// liveTimers live: the growth of the live heap (after a GC) from before the
// timers were armed to after, less the slice holding the handles (the wheel
// has none: its keys are the slot numbers). Each iteration arms and then
// stops liveTimers timers; ns/op is the time of that round.
//
// For afterfunc, the runtime also keeps a 16-byte entry per timer (pointer
// and deadline) in the timer heap of the P that armed it, a slice that grows
// but never shrinks. How much of it a round would count depends on what the
// process did before (the benchmarks above grow it) and on which Ps the
// timers land, so warmRuntimeTimers grows every P's heap first, and the
// figure is the timer objects alone, the same in every round.
func BenchmarkTimerMemory(b *testing.B) {
	b.Run("lib=nodekit", func(b *testing.B) {
		benchMemory(b, func() (settle, stop func(), handles uintptr) {
			s := newNodekitTimers(liveTimers, liveTimers, timerTimeout, timerNoop)
			return s.settle, s.stop, uintptr(cap(s.ts)) * unsafe.Sizeof(s.ts[0])
		})
	})
	b.Run("lib=afterfunc", func(b *testing.B) {
		warmRuntimeTimers()
		benchMemory(b, func() (settle, stop func(), handles uintptr) {
			s := newAfterFuncTimers(liveTimers, liveTimers, timerTimeout, timerNoop)
			return s.settle, s.stop, uintptr(cap(s.ts)) * unsafe.Sizeof(s.ts[0])
		})
	})
	b.Run("lib=wheel", func(b *testing.B) {
		benchMemory(b, func() (settle, stop func(), handles uintptr) {
			s := newWheelTimers(liveTimers, timerTimeout, wheelTick, timerNoopKV)
			return s.settle, s.stop, 0
		})
	})
}

func benchMemory(b *testing.B, arm func() (settle, stop func(), handles uintptr)) {
	var total float64
	rounds := 0
	for b.Loop() {
		var before, after runtime.MemStats
		// Two GCs: stopped runtime timers stay in their P's heap until the
		// P next schedules (which the first GC makes it do), and are
		// garbage only after that.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		settle, stop, handles := arm()
		settle()
		runtime.GC()
		runtime.ReadMemStats(&after)
		total += (float64(after.HeapAlloc) - float64(before.HeapAlloc) - float64(handles)) / liveTimers
		rounds++
		stop()
	}
	b.ReportMetric(total/float64(rounds), "B/timer")
}

// warmRuntimeTimers arms liveTimers AfterFunc timers on each of GOMAXPROCS
// goroutines at once, so that every P's timer heap has room for liveTimers,
// and then stops them all.
func warmRuntimeTimers() {
	var armed, done sync.WaitGroup
	release := make(chan struct{})
	for range runtime.GOMAXPROCS(0) {
		armed.Add(1)
		done.Go(func() {
			s := newAfterFuncTimers(liveTimers, liveTimers, timerTimeout, timerNoop)
			armed.Done()
			<-release
			s.stop()
		})
	}
	armed.Wait()
	close(release)
	done.Wait()
}

// TestTimerSetups checks, for every library, that the setups the benchmarks
// use arm real timers (with a short duration instead of 30 s, and for the
// wheel a proportionally short tick): an armed timer fires, not before its
// duration; a refreshed one fires a full duration after the refresh, not
// before; a cleared one never fires; and stop, which ends every benchmark,
// cancels the timers still pending. Refresh and clear are called from the
// test goroutine while the timers are pending, as the benchmarks call them.
// The sizes subtest checks that the constructors arm the n timers asked for
// with the benchmarks' own 30 s duration and wheel configuration.
func TestTimerSetups(t *testing.T) {
	const (
		d    = 20 * time.Millisecond
		tick = d / 10 // the wheel's resolution in this test
	)
	const ( // the slots used
		fires = iota
		refreshed
		cleared
		stopped
		slots
	)
	// A recorder notes when each slot's timer fired.
	type recorder struct {
		mu    sync.Mutex
		fired [slots][]time.Time
	}
	note := func(r *recorder, i int) {
		r.mu.Lock()
		r.fired[i] = append(r.fired[i], time.Now())
		r.mu.Unlock()
	}
	// scenario runs the checks against one library. early is how much
	// sooner than d the library may fire (the wheel fires on a tick, up to
	// one tick early); waitFired returns once slots fires and refreshed
	// have fired, or gives up.
	scenario := func(t *testing.T, r *recorder, early time.Duration, set, refresh, clear func(int), stop, waitFired func()) {
		t0 := time.Now()
		set(fires)
		set(refreshed)
		set(cleared)
		time.Sleep(d / 2)
		tr := time.Now()
		refresh(refreshed)
		clear(cleared)
		waitFired()
		time.Sleep(2 * d) // time for the cleared timer to fire, were it armed
		set(stopped)
		stop()
		time.Sleep(3 * d) // and for the stopped one

		r.mu.Lock()
		defer r.mu.Unlock()
		for i, want := range [slots]int{fires: 1, refreshed: 1, cleared: 0, stopped: 0} {
			if got := len(r.fired[i]); got != want {
				t.Errorf("timer %d fired %d times, want %d", i, got, want)
			}
		}
		if ts := r.fired[fires]; len(ts) > 0 {
			if got := ts[0].Sub(t0); got < d-early {
				t.Errorf("armed timer fired after %v, want at least %v", got, d-early)
			}
		}
		if ts := r.fired[refreshed]; len(ts) > 0 {
			if got := ts[0].Sub(tr); got < d-early {
				t.Errorf("refreshed timer fired %v after its refresh, want at least %v", got, d-early)
			}
		}
	}
	// waitFor polls until r saw slots fires and refreshed fire.
	waitFor := func(r *recorder) func() {
		return func() {
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				r.mu.Lock()
				done := len(r.fired[fires]) > 0 && len(r.fired[refreshed]) > 0
				r.mu.Unlock()
				if done {
					return
				}
			}
		}
	}

	t.Run("lib=nodekit", func(t *testing.T) {
		r := new(recorder)
		s := newNodekitTimers(slots, 0, d, timerNoop)
		// A callback per slot, so the recorder knows which timer fired.
		set := func(i int) { s.fn = func() { note(r, i) }; s.set(i) }
		ran := make(chan error, 1)
		setThenRun := func(i int) {
			set(i)
			if i == cleared { // the first three are armed: run the loop
				go func() { ran <- s.loop.Run(t.Context()) }()
			}
		}
		// Run returns once nothing keeps the loop alive: fires and
		// refreshed have fired, and the cleared timer must not count.
		waitRun := func() {
			select {
			case err := <-ran:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(2 * time.Second):
				t.Error("Run did not return after the timers fired")
			}
		}
		// After stop nothing keeps the loop alive: Run returns at once,
		// without waiting for the stopped timer.
		stopThenRun := func() {
			s.stop()
			start := time.Now()
			if err := s.loop.Run(t.Context()); err != nil {
				t.Errorf("Run after stop: %v", err)
			}
			if waited := time.Since(start); waited > d/2 {
				t.Errorf("Run after stop took %v: a timer kept the loop alive", waited)
			}
		}
		scenario(t, r, 0, setThenRun, s.refresh, s.clear, stopThenRun, waitRun)
	})
	t.Run("lib=afterfunc", func(t *testing.T) {
		r := new(recorder)
		s := newAfterFuncTimers(slots, 0, d, timerNoop)
		set := func(i int) { s.fn = func() { note(r, i) }; s.set(i) }
		scenario(t, r, 0, set, s.refresh, s.clear, s.stop, waitFor(r))
	})
	t.Run("lib=wheel", func(t *testing.T) {
		r := new(recorder)
		s := newWheelTimers(0, d, tick, func(key, _ any) { note(r, key.(int)) })
		scenario(t, r, tick, s.set, s.refresh, s.clear, s.stop, waitFor(r))
	})

	t.Run("sizes", func(t *testing.T) {
		const n = 1000
		nk := newNodekitTimers(n+1, n, timerTimeout, timerNoop)
		for i, tm := range nk.ts {
			if (tm != nil) != (i < n) {
				t.Errorf("lib=nodekit: slot %d armed: %v", i, tm != nil)
			}
		}
		nk.stop()
		if err := nk.loop.Run(t.Context()); err != nil { // returns at once: all cleared
			t.Errorf("lib=nodekit: Run after stop: %v", err)
		}

		af := newAfterFuncTimers(n+1, n, timerTimeout, timerNoop)
		for i, tm := range af.ts {
			if (tm != nil) != (i < n) {
				t.Errorf("lib=afterfunc: slot %d armed: %v", i, tm != nil)
			}
		}
		af.stop()
		for i, tm := range af.ts[:n] {
			if tm.Stop() {
				t.Errorf("lib=afterfunc: slot %d still armed after stop", i)
			}
		}

		// The wheel holds keys 0..n-1: Drain hands every pending one to
		// its function (on worker goroutines, done before the wheel takes
		// its next request, which settle makes).
		wh := newWheelTimers(n, timerTimeout, wheelTick, timerNoopKV)
		var mu sync.Mutex
		seen := make(map[int]bool)
		mustWheel(wh.tw.Drain(func(key, _ any) { mu.Lock(); seen[key.(int)] = true; mu.Unlock() }))
		wh.settle()
		wh.stop()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != n {
			t.Errorf("lib=wheel: %d timers pending, want %d", len(seen), n)
		}
		for i := range n {
			if !seen[i] {
				t.Errorf("lib=wheel: key %d not pending", i)
				break
			}
		}
	})
}
