package timers_test

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/internal/memtest"
	"github.com/nodekit/nodekit/timers"
)

// tracked returns a value for a callback to capture and a function that
// reports whether the value has been garbage collected, that is, whether
// nothing keeps the callback any more.
func tracked() (*[64]byte, func() bool) {
	p := new([64]byte)
	var gone atomic.Bool
	runtime.AddCleanup(p, func(g *atomic.Bool) { g.Store(true) }, &gone)
	return p, gone.Load
}

// requireCollected fails t unless every tracked value named in gone is
// collected within a few seconds of garbage collections.
func requireCollected(t *testing.T, gone map[string]func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		var kept []string
		for name, g := range gone {
			if !g() {
				kept = append(kept, name)
			}
		}
		if len(kept) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed loop still keeps the callbacks of %q", kept)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// isClosed reports whether ch is closed.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// schedule schedules, in every way there is, a callback that captures a
// tracked value and fails t if it runs, and returns the handles and the
// tracked values. A Hold is taken too.
func schedule(t *testing.T, l *timers.Loop) (handles []any, gone map[string]func() bool) {
	gone = map[string]func() bool{}
	cb := func(name string) func() {
		p, g := tracked()
		gone[name] = g
		return func() { t.Errorf("%s's callback ran (%d)", name, p[0]) }
	}
	handles = append(handles,
		l.SetTimeout(cb("SetTimeout"), time.Millisecond),
		l.SetInterval(cb("SetInterval"), time.Second),
		l.SetImmediate(cb("SetImmediate")),
		l.Hold())
	l.NextTick(cb("NextTick"))
	l.QueueMicrotask(cb("QueueMicrotask"))
	post := cb("Post")
	if err := l.Post(post); err != nil && !errors.Is(err, timers.ErrClosed) {
		t.Fatalf("Post() = %v", err)
	}
	return handles, gone
}

// checkClosed checks what every closed Loop promises: Done is closed, Run
// returns ErrClosed at once and runs nothing, Post returns ErrClosed, and
// whatever is scheduled on it, before or after it closed, is neither run nor
// kept, even while the program keeps the handles.
func checkClosed(t *testing.T, l *timers.Loop, gone map[string]func() bool, handles []any) {
	t.Helper()
	if !isClosed(l.Done()) {
		t.Fatal("Done() is not closed")
	}
	if err := l.Post(func() { t.Error("posted to a closed loop and ran") }); err != timers.ErrClosed {
		t.Fatalf("Post on a closed loop = %v, want ErrClosed", err)
	}
	after, goneAfter := schedule(t, l)
	handles = append(handles, after...)
	for name, g := range goneAfter {
		gone[name+" after closing"] = g
	}
	requireCollected(t, gone)
	// Handles of a closed loop work and do nothing.
	for _, h := range handles {
		switch h := h.(type) {
		case *timers.Timer:
			h.Refresh()
			h.Ref()
			h.Touch()
			h.Unref()
			h.Clear()
		case *timers.Immediate:
			h.Clear()
		case func():
			h() // a Hold's release
		}
	}
	if err := l.Run(t.Context()); err != timers.ErrClosed {
		t.Fatalf("Run() on a closed loop = %v, want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("a second Close() = %v, want nil", err)
	}
	runtime.KeepAlive(handles)
}

// TestCloseDropsEverything closes a loop that has work in every queue: none
// of it runs, and the loop keeps none of it.
func TestCloseDropsEverything(t *testing.T) {
	leaktest.Check(t)
	var l timers.Loop
	handles, gone := schedule(t, &l)
	if isClosed(l.Done()) {
		t.Fatal("Done() is closed before Close")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	checkClosed(t, &l, gone, handles)
}

// TestPanicDropsEverything: a loop closed by a callback's panic keeps and
// runs nothing more, and accepts nothing.
func TestPanicDropsEverything(t *testing.T) {
	leaktest.Check(t)
	var l timers.Loop
	l.NextTick(func() { panic("boom") }) // runs first
	handles, gone := schedule(t, &l)
	var pe *timers.PanicError
	if err := l.Run(t.Context()); !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("Run() = %v, want the PanicError of boom", err)
	}
	checkClosed(t, &l, gone, handles)
}

// TestGoexitClosesLoop: a callback that calls runtime.Goexit (t.Fatal does)
// ends the goroutine that called Run; the Loop is closed as by a panic,
// not left "running" for ever: Done is closed, Run returns ErrClosed (not
// ErrRunning), and nothing scheduled is run or kept.
func TestGoexitClosesLoop(t *testing.T) {
	leaktest.Check(t)
	var l timers.Loop
	l.NextTick(runtime.Goexit) // runs first
	handles, gone := schedule(t, &l)
	exited := make(chan struct{})
	returned := false
	go func() {
		defer close(exited)
		l.Run(t.Context())
		returned = true
	}()
	<-exited
	if returned {
		t.Fatal("Run returned; the callback's Goexit should have ended its goroutine")
	}
	checkClosed(t, &l, gone, handles)
}

// TestClosedLoopKeepsNoPosts posts a hundred thousand closures, each with
// its own captured data, to a closed Loop: the heap does not grow, so a
// producer that ignores ErrClosed leaks nothing.
func TestClosedLoopKeepsNoPosts(t *testing.T) {
	var l timers.Loop
	l.Close()
	start := memtest.LiveHeap()
	for i := range 100_000 {
		data := make([]byte, 64)
		if err := l.Post(func() { data[0] = byte(i) }); err != timers.ErrClosed {
			t.Fatalf("Post() = %v, want ErrClosed", err)
		}
		l.SetTimeout(func() { data[1] = byte(i) }, time.Second)
		l.SetImmediate(func() { data[2] = byte(i) })
		l.NextTick(func() { data[3] = byte(i) })
	}
	if kept := memtest.LiveHeap() - start; kept > heapSlack {
		t.Fatalf("a closed loop keeps %d KiB after 100,000 posts, want at most %d KiB", kept>>10, heapSlack>>10)
	}
	runtime.KeepAlive(&l)
}

// TestCloseWhileRunning: Close from another goroutine ends a Run that is
// waiting, at once, with ErrClosed; what was scheduled never runs.
func TestCloseWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		l.SetTimeout(func() { t.Error("the timer ran after Close") }, time.Hour)
		release := l.Hold()
		defer release()
		start := time.Now()
		done := make(chan error)
		go func() { done <- l.Run(t.Context()) }()
		time.Sleep(time.Second)
		if err := l.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if err := <-done; err != timers.ErrClosed || time.Since(start) != time.Second {
			t.Fatalf("Run() = %v after %v, want ErrClosed after 1s", err, time.Since(start))
		}
	})
}

// TestCloseFromCallback: a callback that closes the loop is the last to
// run: not its ticks, nor the rest of its phase's batch, nor anything else.
func TestCloseFromCallback(t *testing.T) {
	for _, phase := range []string{"timers", "poll", "check", "ticks"} {
		t.Run(phase, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var l timers.Loop
				r := newRecorder()
				closing := func() {
					r.log("closing")
					l.NextTick(r.fn("tick queued by the closing callback"))
					l.SetImmediate(r.fn("immediate queued by the closing callback"))
					if err := l.Close(); err != nil {
						t.Errorf("Close() = %v", err)
					}
				}
				other := r.fn("another callback of the same phase")
				switch phase {
				case "timers":
					l.SetTimeout(closing, time.Millisecond)
					l.SetTimeout(other, time.Millisecond)
				case "poll":
					l.Post(closing)
					l.Post(other)
				case "check":
					l.SetImmediate(closing)
					l.SetImmediate(other)
				case "ticks":
					l.NextTick(closing)
					l.NextTick(other)
				}
				l.SetTimeout(r.fn("a later timer"), time.Second)
				if err := l.Run(t.Context()); err != timers.ErrClosed {
					t.Fatalf("Run() = %v, want ErrClosed", err)
				}
				r.expect(t, "trace", "closing")
			})
		})
	}
}

// A Hold taken on a closed Loop keeps nothing alive, and its release, like
// that of a Hold taken before the loop closed, does nothing.
func TestHoldOnClosedLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		before := l.Hold()
		l.Close()
		after := l.Hold()
		before()
		after()
		after()
		if err := l.Run(t.Context()); err != timers.ErrClosed {
			t.Fatalf("Run() = %v, want ErrClosed", err)
		}
	})
}

// TestCloseUnderLoad closes a loop while other goroutines keep scheduling
// on it in every way and its callbacks keep it busy (run it with -race):
// Run returns ErrClosed, every producer sees ErrClosed from Post, and no
// callback starts after Close has returned (the one running then, if any,
// may see the flag set after Close).
func TestCloseUnderLoad(t *testing.T) {
	leaktest.Check(t)
	var l timers.Loop
	var closed atomic.Bool
	var late atomic.Int32
	check := func() {
		if closed.Load() {
			late.Add(1)
		}
	}
	release := l.Hold()
	defer release()
	ran := make(chan error, 1)
	go func() { ran <- l.Run(t.Context()) }()
	producers := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { producers <- struct{}{} }()
			for i := 0; ; i++ {
				l.NextTick(check)
				l.QueueMicrotask(check)
				l.SetImmediate(check)
				tm := l.SetTimeout(check, time.Millisecond)
				if i%2 == 0 {
					tm.Clear()
				} else {
					tm.Refresh()
				}
				if err := l.Post(check); err != nil {
					if err != timers.ErrClosed {
						t.Errorf("Post() = %v, want ErrClosed", err)
					}
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them run a while, on real time
	// Close from a callback-free goroutine; a callback may be running.
	l.Close()
	closed.Store(true)
	if err := <-ran; err != timers.ErrClosed {
		t.Fatalf("Run() = %v, want ErrClosed", err)
	}
	for range 4 {
		<-producers
	}
	if n := late.Load(); n > 1 {
		t.Fatalf("%d callbacks ran after Close returned, want at most the one running", n)
	}
}
