package workerpool_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/workerpool"
)

func TestGoWait(t *testing.T) {
	leaktest.Check(t)
	p := &workerpool.Pool{}
	defer p.Close()
	task := workerpool.Go(context.Background(), p, func(context.Context) (string, error) { return "ok", nil })
	if v, err := task.Wait(t.Context()); v != "ok" || err != nil {
		t.Fatalf("Wait() = %q, %v", v, err)
	}
	boom := errors.New("boom")
	task2 := workerpool.Go(context.Background(), p, func(context.Context) (int, error) { return 0, boom })
	if _, err := task2.Wait(t.Context()); err != boom {
		t.Fatalf("Wait() error = %v, want boom", err)
	}
	<-task2.Done()
}

func TestFIFOWithOneWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		var got []int
		for i := range 20 {
			p.Submit(t.Context(), func(context.Context) { got = append(got, i) })
		}
		if err := p.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		want := make([]int, 20)
		for i := range want {
			want[i] = i
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("start order (-want +got):\n%s", diff)
		}
	})
}

// The zero Size reads UV_THREADPOOL_SIZE at first use (the parse itself is
// pinned by TestParseSize); warnings go to the Logger.
func TestSizeFromEnvironment(t *testing.T) {
	tests := []struct {
		name     string
		env      string
		unset    bool
		size     int
		want     int
		warnings string
	}{
		{"unset", "", true, 0, 4, ""},
		{"6", "6", false, 0, 6, ""},
		{"spaces", " 8 ", false, 0, 8, ""},
		{"0", "0", false, 0, 1, ""},
		{"5000", "5000", false, 0, 1024, ""},
		{"empty", "", false, 0, 4, "libuv would use 1"},
		{"8x", "8x", false, 0, 4, "libuv would use 8"},
		{"-3", "-3", false, 0, 1, "libuv would use 1024"},
		{"Size wins", "6", false, 2, 2, ""},
		{"Size clamped", "", true, 2000, 1024, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(workerpool.EnvSize, tt.env) // restored after the test
			if tt.unset {
				os.Unsetenv(workerpool.EnvSize)
			}
			var logs bytes.Buffer
			p := &workerpool.Pool{Size: tt.size, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			defer p.Close()
			if got := p.Stats().Size; got != tt.want {
				t.Errorf("Size with %s=%q (unset %v), Size=%d: %d, want %d", workerpool.EnvSize, tt.env, tt.unset, tt.size, got, tt.want)
			}
			if !strings.Contains(logs.String(), tt.warnings) || (tt.warnings == "" && logs.Len() > 0) {
				t.Errorf("logged %q, want %q", logs.String(), tt.warnings)
			}
		})
	}
}

func TestNegativeConfigPanics(t *testing.T) {
	for _, p := range []*workerpool.Pool{{Size: -1}, {QueueSize: -1}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "workerpool: negative") {
					t.Errorf("%+v: recovered %v, want a negative-config panic", p, r)
				}
			}()
			p.Stats()
		}()
	}
}

func TestWorkersStartLazily(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 4}
		if s := p.Stats(); s.Workers != 0 {
			t.Fatalf("Workers = %d before any task, want 0", s.Workers)
		}
		release := make(chan struct{})
		p.Submit(t.Context(), func(context.Context) { <-release })
		synctest.Wait()
		if s := p.Stats(); s.Workers != 1 || s.Running != 1 {
			t.Fatalf("after one task: %+v, want 1 worker running it", s)
		}
		close(release)
		p.Shutdown(t.Context())
	})
}

func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		release := make(chan struct{})
		first := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { <-release; return 1, nil })
		ran := false
		second := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { ran = true; return 2, nil })
		synctest.Wait()
		if first.Cancel() {
			t.Fatal("Cancel of a running task = true")
		}
		if !second.Cancel() || second.Cancel() {
			t.Fatal("Cancel of a queued task: want true once")
		}
		if _, err := second.Wait(t.Context()); !errors.Is(err, workerpool.ErrCanceled) {
			t.Fatalf("cancelled task's error = %v, want ErrCanceled", err)
		}
		close(release)
		p.Shutdown(t.Context())
		if ran {
			t.Fatal("a cancelled task ran")
		}
		if s := p.Stats(); s.Completed != 1 || s.Canceled != 1 || s.Submitted != 2 {
			t.Fatalf("Stats = %+v", s)
		}
	})
}

func TestTaskContextEndedBeforeStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		release := make(chan struct{})
		p.Submit(t.Context(), func(context.Context) { <-release })
		ctx, cancel := context.WithCancel(t.Context())
		task := workerpool.Go(ctx, p, func(context.Context) (int, error) {
			t.Error("ran after its context ended")
			return 0, nil
		})
		cancel()
		close(release)
		_, err := task.Wait(t.Context())
		if !errors.Is(err, workerpool.ErrCanceled) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait() error = %v, want ErrCanceled wrapping context.Canceled", err)
		}
		p.Shutdown(t.Context())
	})
}

func TestTaskContextCancelsRunningTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p workerpool.Pool
		ctx, cancel := context.WithCancel(t.Context())
		task := workerpool.Go(ctx, &p, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		})
		synctest.Wait()
		cancel()
		if _, err := task.Wait(t.Context()); err != context.Canceled {
			t.Fatalf("Wait() = %v, want context.Canceled", err)
		}
		p.Shutdown(t.Context())
	})
}

func TestBoundedQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1, QueueSize: 2}
		release := make(chan struct{})
		block := func(context.Context) { <-release }
		p.Submit(t.Context(), block) // running
		synctest.Wait()
		p.Submit(t.Context(), block) // queued
		p.Submit(t.Context(), block) // queued: full
		if err := p.TrySubmit(t.Context(), block); err != workerpool.ErrQueueFull {
			t.Fatalf("TrySubmit on a full queue = %v, want ErrQueueFull", err)
		}
		if task, err := workerpool.TryGo(t.Context(), p, func(context.Context) (int, error) { return 1, nil }); task != nil || err != workerpool.ErrQueueFull {
			t.Fatalf("TryGo on a full queue = %v, %v; want nil, ErrQueueFull", task, err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Submit(ctx, block); err != context.DeadlineExceeded {
			t.Fatalf("Submit on a full queue = %v, want DeadlineExceeded", err)
		}
		if s := p.Stats(); s.Queued != 2 || s.Submitted != 3 {
			t.Fatalf("a timed-out Submit queued something: %+v", s)
		}
		// Backpressure: a blocked Submit goes through when a place frees.
		done := make(chan error)
		go func() { done <- p.Submit(t.Context(), func(context.Context) {}) }()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("Submit did not wait for room")
		default:
		}
		release <- struct{}{} // the running task ends; the next starts
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		close(release)
		synctest.Wait() // the queue drains
		task, err := workerpool.TryGo(t.Context(), p, func(context.Context) (int, error) { return 7, nil })
		if err != nil {
			t.Fatalf("TryGo with room = %v", err)
		}
		if v, err := task.Wait(t.Context()); v != 7 || err != nil {
			t.Fatalf("TryGo task = %v, %v; want 7, nil", v, err)
		}
		p.Shutdown(t.Context())
	})
}

// Cancel frees a place in a bounded queue at once.
func TestCancelFreesQueuePlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1, QueueSize: 1}
		release := make(chan struct{})
		p.Submit(t.Context(), func(context.Context) { <-release })
		synctest.Wait()
		queuedTask := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { return 0, nil })
		if err := p.TrySubmit(t.Context(), func(context.Context) {}); err != workerpool.ErrQueueFull {
			t.Fatalf("TrySubmit = %v, want ErrQueueFull", err)
		}
		queuedTask.Cancel()
		if err := p.TrySubmit(t.Context(), func(context.Context) {}); err != nil {
			t.Fatalf("TrySubmit after Cancel = %v, want room", err)
		}
		close(release)
		p.Shutdown(t.Context())
	})
}

func TestShutdownDrains(t *testing.T) {
	leaktest.Check(t)
	p := &workerpool.Pool{Size: 2}
	var n atomic.Int32
	for range 50 {
		p.Submit(context.Background(), func(context.Context) { time.Sleep(time.Millisecond); n.Add(1) })
	}
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 50 {
		t.Fatalf("%d of 50 queued tasks ran before Shutdown returned", n.Load())
	}
	if err := p.Submit(context.Background(), func(context.Context) {}); err != workerpool.ErrClosed {
		t.Fatalf("Submit after Shutdown = %v, want ErrClosed", err)
	}
	task := workerpool.Go(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
	if _, err := task.Wait(t.Context()); err != workerpool.ErrClosed {
		t.Fatalf("Go after Shutdown: Wait() = %v, want ErrClosed", err)
	}
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatalf("second Shutdown = %v", err)
	}
}

// When its context ends, Shutdown stops the pool as Close does.
func TestShutdownDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		running := workerpool.Go(context.Background(), p, func(ctx context.Context) (int, error) {
			<-ctx.Done() // only the hard stop ends it
			return 0, context.Cause(ctx)
		})
		queued := workerpool.Go(context.Background(), p, func(context.Context) (int, error) {
			t.Error("a queued task ran after Shutdown gave up")
			return 0, nil
		})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
		}
		if _, err := running.Wait(t.Context()); err != workerpool.ErrClosed {
			t.Fatalf("running task: %v, want its context cancelled with cause ErrClosed", err)
		}
		if _, err := queued.Wait(t.Context()); !errors.Is(err, workerpool.ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("queued task: %v, want ErrCanceled wrapping the Shutdown context's error", err)
		}
		if s := p.Stats(); s.Workers != 0 || s.Canceled != 1 || s.Failed != 1 {
			t.Fatalf("after a Shutdown that gave up: %+v", s)
		}
		if err := p.Shutdown(t.Context()); err != workerpool.ErrClosed {
			t.Fatalf("a later Shutdown = %v, want ErrClosed: the queue was not drained", err)
		}
	})
}

// The Pool is an io.Closer, and Close stops it now: queued tasks never
// run, running ones see their context cancelled, and Close returns when
// they have returned.
var _ io.Closer = (*workerpool.Pool)(nil)

func TestCloseStopsNow(t *testing.T) {
	leaktest.Check(t)
	p := &workerpool.Pool{Size: 2}
	started := make(chan struct{}, 2)
	var causes [2]error
	for i := range 2 {
		p.Submit(context.WithValue(context.Background(), ctxKey{}, i), func(ctx context.Context) {
			started <- struct{}{}
			<-ctx.Done()
			causes[ctx.Value(ctxKey{}).(int)] = context.Cause(ctx)
		})
	}
	var queued []*workerpool.Task[int]
	for range 100 {
		queued = append(queued, workerpool.Go(context.Background(), p, func(context.Context) (int, error) {
			t.Error("a queued task ran after Close")
			return 0, nil
		}))
	}
	<-started
	<-started
	if err := p.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	for i, cause := range causes {
		if cause != workerpool.ErrClosed {
			t.Errorf("running task %d: context.Cause = %v, want ErrClosed", i, cause)
		}
	}
	for _, task := range queued {
		if _, err := task.Wait(t.Context()); !errors.Is(err, workerpool.ErrCanceled) || !errors.Is(err, workerpool.ErrClosed) {
			t.Fatalf("queued task: Wait() = %v, want ErrCanceled wrapping ErrClosed", err)
		}
	}
	if s := p.Stats(); s.Workers != 0 || s.Canceled != 100 || s.Completed != 2 {
		t.Fatalf("after Close: %+v, want no worker, 100 cancelled, 2 completed", s)
	}
	if err := p.Submit(context.Background(), func(context.Context) {}); err != workerpool.ErrClosed {
		t.Fatalf("Submit after Close = %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close() = %v, want nil", err)
	}
}

// A Close while Shutdown drains stops the pool; Shutdown then reports that
// it did not drain.
func TestCloseDuringShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		p.Submit(t.Context(), func(ctx context.Context) { <-ctx.Done() })
		p.Submit(t.Context(), func(context.Context) { t.Error("a queued task ran after Close") })
		done := make(chan error)
		go func() { done <- p.Shutdown(t.Context()) }()
		synctest.Wait()
		p.Close()
		if err := <-done; err != workerpool.ErrClosed {
			t.Fatalf("Shutdown interrupted by Close = %v, want ErrClosed", err)
		}
	})
}

// An ended context gives Shutdown the same answer every time: nil for a
// pool that has stopped, ctx.Err() for one with work left.
func TestShutdownEndedContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ended, cancel := context.WithCancel(t.Context())
		cancel()
		for range 50 {
			p := &workerpool.Pool{Size: 1}
			task := workerpool.Go(t.Context(), p, func(context.Context) (int, error) { return 1, nil })
			task.Wait(t.Context())
			synctest.Wait() // the worker is idle
			if err := p.Shutdown(t.Context()); err != nil {
				t.Fatalf("Shutdown = %v", err)
			}
			if err := p.Shutdown(ended); err != nil {
				t.Fatalf("Shutdown(ended) of a stopped pool = %v, want nil", err)
			}
			q := &workerpool.Pool{Size: 1}
			q.Submit(t.Context(), func(ctx context.Context) { <-ctx.Done() })
			if err := q.Shutdown(ended); err != context.Canceled {
				t.Fatalf("Shutdown(ended) of a busy pool = %v, want context.Canceled", err)
			}
		}
	})
}

func TestSlowIOLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 4}
		release := make(chan struct{})
		var slow, fast, maxSlow atomic.Int32
		for range 6 {
			p.Submit(t.Context(), func(context.Context) {
				if n := slow.Add(1); n > maxSlow.Load() {
					maxSlow.Store(n)
				}
				<-release
				slow.Add(-1)
			}, workerpool.SlowIO)
		}
		for range 2 { // queued after the slow ones, yet they get workers
			p.Submit(t.Context(), func(context.Context) { fast.Add(1); <-release })
		}
		synctest.Wait()
		if slow.Load() != 2 || fast.Load() != 2 {
			t.Fatalf("running: %d slow, %d fast; want 2 and 2 ((4+1)/2 slow at most)", slow.Load(), fast.Load())
		}
		close(release)
		p.Shutdown(t.Context())
		if maxSlow.Load() != 2 {
			t.Fatalf("up to %d slow tasks ran at once, want 2", maxSlow.Load())
		}
	})
}

func TestResize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		release := make(chan struct{})
		var running atomic.Int32
		for range 6 {
			p.Submit(t.Context(), func(context.Context) { running.Add(1); <-release; running.Add(-1) })
		}
		synctest.Wait()
		p.Resize(4)
		synctest.Wait()
		if running.Load() != 4 {
			t.Fatalf("after Resize(4): %d running, want 4", running.Load())
		}
		p.Resize(2)
		release <- struct{}{}
		release <- struct{}{}
		synctest.Wait()
		if s := p.Stats(); running.Load() != 2 || s.Workers != 2 {
			t.Fatalf("after Resize(2) and two ends: %d running, %d workers; want 2, 2", running.Load(), s.Workers)
		}
		close(release)
		p.Shutdown(t.Context())
	})
}

func TestStatsQueueWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		for range 64 {
			p.Submit(t.Context(), func(context.Context) { time.Sleep(time.Millisecond) })
		}
		p.Shutdown(t.Context())
		s := p.Stats()
		if s.QueueWaitSamples != 4 || s.QueueWait <= 0 || s.Completed != 64 {
			t.Fatalf("Stats = %+v, want 4 samples of a positive wait and 64 completed", s)
		}
	})
}

func TestGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 2}
		g, ctx := workerpool.NewGroup(t.Context(), p)
		boom := errors.New("boom")
		var mu sync.Mutex
		var sawCancel bool
		started := make(chan struct{})
		g.Go(func(context.Context) error { <-started; return boom })
		g.Go(func(ctx context.Context) error {
			close(started)
			<-ctx.Done() // the first error cancels the group
			mu.Lock()
			sawCancel = true
			mu.Unlock()
			return nil
		})
		synctest.Wait()
		// Unlike errgroup's, a task queued after the first error does not
		// run: its context, the Group's, has ended.
		g.Go(func(context.Context) error { t.Error("a group task ran after the group failed"); return nil })
		if err := g.Wait(); err != boom || !sawCancel || ctx.Err() == nil {
			t.Fatalf("Wait() = %v, cancel seen %v; want boom and a cancelled context", err, sawCancel)
		}
		g, _ = workerpool.NewGroup(t.Context(), p)
		g.Go(func(context.Context) error { panic("in group") })
		var pe *workerpool.PanicError
		if err := g.Wait(); !errors.As(err, &pe) {
			t.Fatalf("Wait() = %v, want a *PanicError", err)
		}
		p.Shutdown(t.Context())
		g, _ = workerpool.NewGroup(t.Context(), p)
		g.Go(func(context.Context) error { return nil })
		if err := g.Wait(); err != workerpool.ErrClosed {
			t.Fatalf("Group on a closed pool: Wait() = %v, want ErrClosed", err)
		}
	})
}

// Close cancels a Group's running tasks and ends its queued ones, so
// that Wait returns.
func TestGroupClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		g, gctx := workerpool.NewGroup(t.Context(), p)
		g.Go(func(ctx context.Context) error {
			<-ctx.Done() // only Close ends it
			return nil
		})
		g.Go(func(context.Context) error {
			t.Error("a queued group task ran after Close")
			return nil
		})
		synctest.Wait()
		p.Close()
		err := g.Wait()
		if !errors.Is(err, workerpool.ErrClosed) && !errors.Is(err, workerpool.ErrCanceled) {
			t.Fatalf("Wait() = %v, want Close's error", err)
		}
		if context.Cause(gctx) == nil {
			t.Fatal("the group's context was not cancelled")
		}
	})
}

// Wait gives up with its own context; the task goes on.
func TestWaitContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p workerpool.Pool
		release := make(chan struct{})
		task := workerpool.Go(context.Background(), &p, func(context.Context) (int, error) { <-release; return 5, nil })
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := task.Wait(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Wait() = %v, want DeadlineExceeded", err)
		}
		close(release)
		if v, err := task.Wait(t.Context()); v != 5 || err != nil {
			t.Fatalf("second Wait() = %v, %v; want 5, nil", v, err)
		}
		p.Shutdown(t.Context())
	})
}
