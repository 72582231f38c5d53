package workerpool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/nodekit/nodekit/workerpool"
)

// panicMessage calls f and returns what it panicked with, as a string, or
// "" if it returned.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if msg == "" {
				msg = "(empty panic)"
			}
		}
	}()
	f()
	return ""
}

// Misuse panics at the call, on the caller's goroutine, with the package's
// prefix, never later on a worker.
func TestMisusePanicsAtCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		defer p.Close()
		ctx := t.Context()
		var nilCtx context.Context
		fn := func(context.Context) {}
		typed := func(context.Context) (int, error) { return 1, nil }
		done := workerpool.Go(ctx, p, typed)
		done.Wait(ctx)
		g, _ := workerpool.NewGroup(ctx, p)
		tests := []struct {
			name string
			call func()
			want string
		}{
			{"Submit(nil, fn)", func() { p.Submit(nilCtx, fn) }, "nil Context"},
			{"Submit(ctx, nil)", func() { p.Submit(ctx, nil) }, "nil function"},
			{"TrySubmit(ctx, nil)", func() { p.TrySubmit(ctx, nil) }, "nil function"},
			{"TrySubmit(nil, fn)", func() { p.TrySubmit(nilCtx, fn) }, "nil Context"},
			{"Submit(ctx, fn, Option(7))", func() { p.Submit(ctx, fn, workerpool.Option(7)) }, "unknown Option"},
			{"Go(nil, p, fn)", func() { workerpool.Go(nilCtx, p, typed) }, "nil Context"},
			{"Go(ctx, nil, fn)", func() { workerpool.Go(ctx, nil, typed) }, "nil Pool"},
			{"Go(ctx, p, nil)", func() { workerpool.Go[int](ctx, p, nil) }, "nil function"},
			{"TryGo(nil, p, fn)", func() { workerpool.TryGo(nilCtx, p, typed) }, "nil Context"},
			{"TryGo(ctx, p, nil)", func() { workerpool.TryGo[int](ctx, p, nil) }, "nil function"},
			{"NewGroup(nil, p)", func() { workerpool.NewGroup(nilCtx, p) }, "nil Context"},
			{"NewGroup(ctx, nil)", func() { workerpool.NewGroup(ctx, nil) }, "nil Pool"},
			{"Group.Go(nil)", func() { g.Go(nil) }, "nil function"},
			{"zero Group.Go", func() { new(workerpool.Group).Go(func(context.Context) error { return nil }) }, "NewGroup"},
			{"OnDone(nil, fn)", func() { done.OnDone(nil, func(int, error) {}) }, "nil target"},
			{"OnDone(target, nil)", func() { done.OnDone(new(fakeLoop), nil) }, "nil function"},
			{"Wait(nil)", func() { done.Wait(nilCtx) }, "nil Context"},
			{"Shutdown(nil)", func() { p.Shutdown(nilCtx) }, "nil Context"},
			{"Resize(0)", func() { p.Resize(0) }, "Resize(0)"},
			{"Resize(-1)", func() { p.Resize(-1) }, "Resize(-1)"},
		}
		for _, tt := range tests {
			got := panicMessage(tt.call)
			if !strings.HasPrefix(got, "workerpool: ") || !strings.Contains(got, tt.want) {
				t.Errorf("%s panicked with %q, want a workerpool: panic about %q", tt.name, got, tt.want)
			}
		}
		synctest.Wait()
		if s := p.Stats(); s.Submitted != 1 || s.Workers != 1 {
			t.Errorf("after the misuses: %+v, want only the one good task submitted", s)
		}
		if err := g.Wait(); err != nil {
			t.Errorf("the Group with misused calls: Wait() = %v, want nil", err)
		}
	})
}

// A misconfigured Pool panics the same way at every use, not only the first.
func TestMisconfiguredPoolPanicsEveryTime(t *testing.T) {
	for _, tt := range []struct {
		p    *workerpool.Pool
		want string
	}{
		{&workerpool.Pool{Size: -1}, "workerpool: negative Size -1"},
		{&workerpool.Pool{QueueSize: -2}, "workerpool: negative QueueSize -2"},
	} {
		uses := []struct {
			name string
			call func()
		}{
			{"Stats", func() { tt.p.Stats() }},
			{"Submit", func() { tt.p.Submit(context.Background(), func(context.Context) {}) }},
			{"TrySubmit", func() { tt.p.TrySubmit(context.Background(), func(context.Context) {}) }},
			{"Go", func() {
				workerpool.Go(context.Background(), tt.p, func(context.Context) (int, error) { return 0, nil })
			}},
			{"NewGroup", func() { workerpool.NewGroup(context.Background(), tt.p) }},
			{"Resize", func() { tt.p.Resize(2) }},
			{"Shutdown", func() { tt.p.Shutdown(context.Background()) }},
			{"Close", func() { tt.p.Close() }},
			{"Stats again", func() { tt.p.Stats() }},
		}
		for _, u := range uses {
			if got := panicMessage(u.call); got != tt.want {
				t.Errorf("%s of a pool that panics with %q: panicked with %q", u.name, tt.want, got)
			}
		}
	}
}

// panickyLoop is an OnDone target whose Post panics.
type panickyLoop struct{}

func (panickyLoop) Post(func()) error { panic("post exploded") }

// refusingLoop is an OnDone target that refuses every callback, as a closed
// *timers.Loop does.
type refusingLoop struct{ released int }

var errRefused = errors.New("loop closed")

func (l *refusingLoop) Post(func()) error { return errRefused }
func (l *refusingLoop) Hold() func()      { return func() { l.released++ } }

// An OnDone target whose Post panics or refuses does not kill the worker;
// the lost callback is reported through the Logger, and the hold released.
func TestOnDoneTargetFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		p := &workerpool.Pool{Size: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		release := make(chan struct{})
		task := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { <-release; return 1, nil })
		task.OnDone(panickyLoop{}, func(int, error) { t.Error("a callback ran that Post never took") })
		refusing := new(refusingLoop)
		task.OnDone(refusing, func(int, error) { t.Error("a callback ran that Post refused") })
		close(release) // the worker posts both and survives
		if v, err := task.Wait(t.Context()); v != 1 || err != nil {
			t.Fatalf("Wait() = %v, %v; want 1, nil", v, err)
		}
		next := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { return 2, nil })
		if v, err := next.Wait(t.Context()); v != 2 || err != nil {
			t.Fatalf("the next task: Wait() = %v, %v; want 2, nil", v, err)
		}
		// Posted at once for an ended task: the same.
		task.OnDone(panickyLoop{}, func(int, error) { t.Error("a callback ran that Post never took") })
		synctest.Wait()
		out := logs.String()
		if n := strings.Count(out, "post exploded"); n != 2 || !strings.Contains(out, "misuse_test.go") {
			t.Errorf("logs %q: want the Post panic twice, with its stack", out)
		}
		if !strings.Contains(out, "loop closed") {
			t.Errorf("logs %q: want the refusal", out)
		}
		if refusing.released != 1 {
			t.Errorf("hold released %d times, want 1", refusing.released)
		}
		p.Shutdown(t.Context())
	})
}

// goexitLoop is an OnDone target whose Post calls runtime.Goexit, as a
// test's fake loop calling t.FailNow would.
type goexitLoop struct{ released int }

func (l *goexitLoop) Post(func()) error { runtime.Goexit(); return nil }
func (l *goexitLoop) Hold() func()      { return func() { l.released++ } }

// A target whose Post calls runtime.Goexit takes the posting worker with
// it, but not the task's other callbacks: they are still posted, the hold
// is released, the refusal logged, and the worker replaced.
func TestOnDoneTargetGoexits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		p := &workerpool.Pool{Size: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		release := make(chan struct{})
		task := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { <-release; return 1, nil })
		bad := new(goexitLoop)
		task.OnDone(bad, func(int, error) { t.Error("a callback ran that Post never took") })
		var good fakeLoop
		task.OnDone(&good, func(int, error) {})
		close(release)
		if v, err := task.Wait(t.Context()); v != 1 || err != nil {
			t.Fatalf("Wait() = %v, %v; want 1, nil", v, err)
		}
		synctest.Wait()
		if len(good.fns) != 1 || bad.released != 1 {
			t.Errorf("%d posts to the good target (want 1), %d releases of the bad one's hold (want 1)", len(good.fns), bad.released)
		}
		if !strings.Contains(logs.String(), "Goexit") {
			t.Errorf("logs %q: want the Goexit refusal", logs.String())
		}
		next := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { return 2, nil })
		if v, err := next.Wait(t.Context()); v != 2 || err != nil {
			t.Fatalf("the next task: Wait() = %v, %v; want 2, nil", v, err)
		}
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatalf("Shutdown() = %v", err)
		}
	})
}
