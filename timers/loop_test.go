package timers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/timers"
)

// recorder collects a trace of callback names with their time offsets.
type recorder struct {
	start time.Time
	lines []string
}

func newRecorder() *recorder { return &recorder{start: time.Now()} }

func (r *recorder) log(name string) { r.lines = append(r.lines, name) }

func (r *recorder) at(name string) func() {
	return func() { r.lines = append(r.lines, fmt.Sprintf("%s@%v", name, time.Since(r.start))) }
}

func (r *recorder) fn(name string) func() { return func() { r.log(name) } }

// expect fails the test unless the recorded lines are want, naming what was
// checked.
func (r *recorder) expect(t *testing.T, what string, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, r.lines); diff != "" {
		t.Fatalf("%s (-want +got):\n%s", what, diff)
	}
}

func run(t *testing.T, l *timers.Loop) {
	t.Helper()
	if err := l.Run(t.Context()); err != nil {
		t.Fatalf("Run() = %v", err)
	}
}

func TestSetTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		l.SetTimeout(r.at("a"), 30*time.Millisecond)
		l.SetTimeout(r.at("b"), 10*time.Millisecond)
		l.SetTimeout(r.at("c"), 30*time.Millisecond)
		run(t, &l)
		want := []string{"b@10ms", "a@30ms", "c@30ms"}
		r.expect(t, "order", want...)
	})
}

// The ordering of Node's docs and of testdata/order.js (see the
// differential test), checked here without Node.
func TestPhaseOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		l.SetImmediate(func() {
			r.log("imm1")
			l.NextTick(r.fn("tick in imm1"))
			l.QueueMicrotask(r.fn("micro in imm1"))
			l.SetImmediate(r.fn("imm3 (queued during check)"))
		})
		l.SetImmediate(r.fn("imm2"))
		l.QueueMicrotask(func() {
			r.log("micro1")
			l.NextTick(r.fn("tick from micro1"))
			l.QueueMicrotask(r.fn("micro from micro1"))
		})
		l.NextTick(func() {
			r.log("tick1")
			l.QueueMicrotask(r.fn("micro from tick1"))
			l.NextTick(r.fn("tick from tick1"))
		})
		l.SetTimeout(func() {
			r.log("t10")
			l.SetTimeout(r.fn("t10->0"), 0)
			l.SetImmediate(r.fn("t10->imm"))
		}, 10*time.Millisecond)
		l.SetTimeout(r.fn("t20a"), 20*time.Millisecond)
		l.SetTimeout(r.fn("t20b"), 20*time.Millisecond)
		n := 0
		var iv *timers.Timer
		iv = l.SetInterval(func() {
			r.log("iv")
			if n++; n == 3 {
				iv.Clear()
			}
		}, 30*time.Millisecond)
		run(t, &l)
		want := strings.Split(strings.TrimSpace(orderJSOutput), "\n")
		if diff := cmp.Diff(want, r.lines); diff != "" {
			t.Fatalf("order (-node +go):\n%s", diff)
		}
	})
}

// What `node testdata/order.js` prints.
const orderJSOutput = `
tick1
tick from tick1
micro1
micro from tick1
micro from micro1
tick from micro1
imm1
tick in imm1
micro in imm1
imm2
imm3 (queued during check)
t10
t10->imm
t10->0
t20a
t20b
iv
iv
iv
`

// Inside a poll-phase callback an immediate runs before a 0ms timeout.
func TestImmediateBeforeTimeoutInPost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for range 20 {
			var l timers.Loop
			r := newRecorder()
			release := l.Hold()
			go func() {
				l.Post(func() {
					r.log("io")
					l.SetTimeout(r.fn("timeout"), 0)
					l.SetImmediate(r.fn("immediate"))
					release()
				})
			}()
			run(t, &l)
			r.expect(t, "order", "io", "immediate", "timeout")
		}
	})
}

func TestInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		n := 0
		var iv *timers.Timer
		iv = l.SetInterval(func() {
			r.at("tick")()
			time.Sleep(3 * time.Millisecond) // a slow callback: not the loop's time
			if n++; n == 3 {
				iv.Clear()
			}
		}, 10*time.Millisecond)
		run(t, &l)
		// Rescheduled from the time taken before each callback, as Node does.
		want := []string{"tick@10ms", "tick@20ms", "tick@30ms"}
		r.expect(t, "ticks", want...)
	})
}

func TestRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		a := l.SetTimeout(r.at("a"), 10*time.Millisecond)
		l.SetTimeout(r.at("b"), 10*time.Millisecond)
		l.SetTimeout(func() {
			a.Refresh() // moves a behind b... and 5ms later
		}, 5*time.Millisecond)
		run(t, &l)
		r.expect(t, "order", "b@10ms", "a@15ms")
		// A fired timer is armed again; a cleared one is not.
		r.lines = nil
		a.Refresh()
		c := l.SetTimeout(r.at("c"), time.Millisecond)
		c.Clear()
		c.Refresh()
		run(t, &l)
		r.expect(t, "after Refresh of fired and cleared timers", "a@25ms")
	})
}

func TestRefreshSameTimeKeepsFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		a := l.SetTimeout(r.fn("a"), 10*time.Millisecond)
		l.SetTimeout(r.fn("b"), 10*time.Millisecond)
		a.Refresh() // same instant: a now comes after b
		run(t, &l)
		r.expect(t, "order", "b", "a")
	})
}

func TestClear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		a := l.SetTimeout(r.fn("a"), 10*time.Millisecond)
		b := l.SetTimeout(r.fn("b"), 10*time.Millisecond)
		im := l.SetImmediate(r.fn("immediate"))
		l.SetTimeout(func() { b.Clear() }, 5*time.Millisecond)
		a.Clear()
		im.Clear()
		run(t, &l)
		if len(r.lines) != 0 {
			t.Fatalf("cleared callbacks ran: %q", r.lines)
		}
	})
}

func TestUnrefAndRef(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		u := l.SetTimeout(r.at("unref'd"), 50*time.Millisecond)
		u.Unref()
		l.SetTimeout(r.at("ref'd"), 10*time.Millisecond)
		run(t, &l) // ends at 10ms: the unref'd timer does not keep it alive
		r.expect(t, "first run", "ref'd@10ms")
		u.Ref()
		run(t, &l)
		r.expect(t, "after Ref", "ref'd@10ms", "unref'd@50ms")
	})
}

func TestUnrefTimerRunsWhileLoopIsAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		l.SetTimeout(r.at("unref'd"), 10*time.Millisecond).Unref()
		l.SetTimeout(r.at("ref'd"), 20*time.Millisecond)
		run(t, &l)
		r.expect(t, "order", "unref'd@10ms", "ref'd@20ms")
	})
}

func TestHoldAndPost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		release := l.Hold()
		go func() {
			time.Sleep(time.Second) // work on another goroutine
			l.Post(r.at("result"))
			release()
			release() // idempotent
		}()
		run(t, &l)
		r.expect(t, "trace", "result@1s")
	})
}

// Calls from other goroutines while the loop sleeps wake it and take effect.
func TestCallsFromOtherGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		late := l.SetTimeout(r.at("late"), time.Hour)
		go func() {
			time.Sleep(10 * time.Millisecond)
			l.SetTimeout(r.at("early"), 5*time.Millisecond) // earlier than the armed wake-up
			l.NextTick(r.at("tick"))
			l.SetImmediate(r.at("immediate"))
			time.Sleep(20 * time.Millisecond)
			late.Clear() // lets Run end
		}()
		run(t, &l)
		want := []string{"tick@10ms", "immediate@10ms", "early@15ms"}
		r.expect(t, "trace", want...)
		if time.Since(r.start) != 30*time.Millisecond {
			t.Fatalf("Run ended at %v, want 30ms (when the last timer was cleared)", time.Since(r.start))
		}
	})
}

func TestPanicClosesLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		boom := errors.New("boom")
		l.SetTimeout(func() { panic(boom) }, time.Millisecond)
		l.SetTimeout(func() { t.Error("a timer ran after the panic") }, 2*time.Millisecond)
		err := l.Run(t.Context())
		var pe *timers.PanicError
		if !errors.As(err, &pe) || !errors.Is(err, boom) || !strings.Contains(string(pe.Stack), "loop_test.go") {
			t.Fatalf("Run() = %v, want a *PanicError wrapping boom with the stack", err)
		}
		if err := l.Run(t.Context()); err != timers.ErrClosed {
			t.Fatalf("Run() after the panic = %v, want ErrClosed", err)
		}
	})
}

func TestRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		done := make(chan struct{})
		l.SetTimeout(func() {
			if err := l.Run(t.Context()); err != timers.ErrRunning {
				t.Errorf("nested Run() = %v, want ErrRunning", err)
			}
			close(done)
		}, time.Millisecond)
		run(t, &l)
		<-done
	})
}

func TestContextEndsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		l.SetTimeout(r.at("a"), time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := l.Run(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Run() = %v, want DeadlineExceeded", err)
		}
		run(t, &l) // what was scheduled is still there
		r.expect(t, "trace", "a@1m0s")
	})
}

func TestDelayCoercion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := timers.Loop{Logger: slog.New(slog.DiscardHandler)} // TestOverflowWarning checks it
		r := newRecorder()
		for _, d := range []time.Duration{-time.Second, 0, time.Microsecond, (1<<31)*time.Millisecond + 1} {
			l.SetTimeout(r.at(fmt.Sprint(d)), d)
		}
		run(t, &l)
		want := []string{"-1s@1ms", "0s@1ms", "1µs@1ms", "596h31m23.648000001s@1ms"}
		r.expect(t, "trace", want...)
	})
}

// Durations count in whole milliseconds, as in Node: 1.8ms and 1.1ms are
// 1ms timeouts, in the 1ms list, so the four run in the order set (Node's
// own order, checked against Node by TestFractionalDelaysMatchNode), and
// 2.9ms runs with the 2ms timeout.
func TestDelayTruncatesToMilliseconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		for _, d := range []time.Duration{2900 * time.Microsecond, time.Millisecond, 1800 * time.Microsecond,
			1100 * time.Microsecond, time.Millisecond, 2 * time.Millisecond} {
			l.SetTimeout(r.at(fmt.Sprint(d)), d)
		}
		iv := 0
		var tm *timers.Timer
		tm = l.SetInterval(func() {
			r.at("interval 1.5ms")()
			if iv++; iv == 2 {
				tm.Clear()
			}
		}, 1500*time.Microsecond)
		run(t, &l)
		want := []string{"1ms@1ms", "1.8ms@1ms", "1.1ms@1ms", "1ms@1ms", "interval 1.5ms@1ms",
			"2.9ms@2ms", "2ms@2ms", "interval 1.5ms@2ms"}
		r.expect(t, "trace", want...)
	})
}

// A duration past Node's TIMEOUT_MAX (2³¹−1 ms, under 25 days) runs after
// 1ms with Node's TimeoutOverflowWarning, through the Loop's Logger: in Go
// 30*24*time.Hour is an easy mistake. Below 1ms there is no warning.
func TestOverflowWarning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logged bytes.Buffer
		l := timers.Loop{Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))}
		r := newRecorder()
		l.SetTimeout(r.at("month"), 30*24*time.Hour)
		l.SetInterval(func() {}, -time.Second).Clear()
		l.SetTimeout(r.at("max"), (1<<31-1)*time.Millisecond).Unref()
		run(t, &l)
		r.expect(t, "trace", "month@1ms")
		want := `level=WARN msg="timers: TimeoutOverflowWarning: duration does not fit into a 32-bit signed integer of milliseconds; set to 1ms" duration=720h0m0s` + "\n"
		if diff := cmp.Diff(want, logged.String()); diff != "" {
			t.Fatalf("log (-want +got):\n%s", diff)
		}
	})
}

func TestTouch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		idle := l.SetTimeout(r.at("idle"), 100*time.Millisecond)
		stop := make(chan struct{})
		go func() { // traffic every 40ms for 300ms, then silence
			for i := 0; i < 8; i++ {
				time.Sleep(40 * time.Millisecond)
				idle.Touch()
			}
			close(stop)
		}()
		run(t, &l)
		<-stop
		// Last touch at 320ms; the timer, re-armed at 400ms, runs at 500ms.
		r.expect(t, "trace", "idle@500ms")
	})
}

func TestNilCallbackPanics(t *testing.T) {
	var l timers.Loop
	for name, call := range map[string]func(){
		"SetTimeout":     func() { l.SetTimeout(nil, time.Second) },
		"SetInterval":    func() { l.SetInterval(nil, time.Second) },
		"SetImmediate":   func() { l.SetImmediate(nil) },
		"NextTick":       func() { l.NextTick(nil) },
		"QueueMicrotask": func() { l.QueueMicrotask(nil) },
		"Post":           func() { l.Post(nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != "timers: nil callback" {
					t.Fatalf("%s(nil) panicked with %v", name, p)
				}
			}()
			call()
		})
	}
}

// Run with a context that has already ended runs nothing, not even the main
// script's ticks, and leaves everything scheduled, every time.
func TestRunWithEndedContextRunsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l timers.Loop
		r := newRecorder()
		l.NextTick(r.fn("tick"))
		l.QueueMicrotask(r.fn("microtask"))
		l.SetImmediate(r.fn("immediate"))
		l.SetTimeout(r.fn("timeout"), 0)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for range 10 {
			if err := l.Run(ctx); err != context.Canceled {
				t.Fatalf("Run(ended ctx) = %v, want context.Canceled", err)
			}
		}
		r.expect(t, "trace with an ended context")
		time.Sleep(time.Millisecond)
		run(t, &l)
		r.expect(t, "trace of the next Run", "tick", "microtask", "timeout", "immediate")
	})
}

// Misuse fails at the call with the package's prefix: a nil context, and a
// non-positive Ticks interval (at the call of Ticks, not when ranged over).
func TestMisusePanicsAtCall(t *testing.T) {
	var l timers.Loop
	var nilCtx context.Context
	for name, tc := range map[string]struct {
		call func()
		want string
	}{
		"Run":          {func() { l.Run(nilCtx) }, "timers: nil context"},
		"Sleep":        {func() { timers.Sleep(nilCtx, time.Second) }, "timers: nil context"},
		"Ticks":        {func() { timers.Ticks(nilCtx, time.Second) }, "timers: nil context"},
		"Ticks(ctx,0)": {func() { timers.Ticks(t.Context(), 0) }, "timers: Ticks: non-positive interval"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if p := recover(); p != tc.want {
					t.Fatalf("%s panicked with %v, want %q", name, p, tc.want)
				}
			}()
			tc.call()
		})
	}
}
