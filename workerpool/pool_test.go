package workerpool_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
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
	defer p.Close(context.Background())
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
		if err := p.Close(t.Context()); err != nil {
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

func TestSizeFromEnvironment(t *testing.T) {
	tests := []struct {
		env      string
		size     int
		want     int
		warnings string
	}{
		{"", 0, 4, ""},
		{"6", 0, 6, ""},
		{" 8 ", 0, 8, ""},
		{"0", 0, 1, ""},
		{"-3", 0, 1, ""},
		{"5000", 0, 1024, ""},
		{"abc", 0, 4, "ignoring UV_THREADPOOL_SIZE"},
		{"6", 2, 2, ""},      // Size wins over the environment
		{"", 2000, 1024, ""}, // clamped as libuv does
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+string(rune('0'+tt.size%10)), func(t *testing.T) {
			t.Setenv(workerpool.EnvSize, tt.env)
			var logs bytes.Buffer
			p := &workerpool.Pool{Size: tt.size, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			defer p.Close(context.Background())
			if got := p.Stats().Size; got != tt.want {
				t.Errorf("Size with %s=%q, Size=%d: %d, want %d", workerpool.EnvSize, tt.env, tt.size, got, tt.want)
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
		p.Close(t.Context())
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
		p.Close(t.Context())
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
		p.Close(t.Context())
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
		p.Close(t.Context())
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
		p.Close(t.Context())
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
		p.Close(t.Context())
	})
}

func TestCloseGraceful(t *testing.T) {
	leaktest.Check(t)
	p := &workerpool.Pool{Size: 2}
	var n atomic.Int32
	for range 50 {
		p.Submit(context.Background(), func(context.Context) { time.Sleep(time.Millisecond); n.Add(1) })
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 50 {
		t.Fatalf("%d of 50 queued tasks ran before Close returned", n.Load())
	}
	if err := p.Submit(context.Background(), func(context.Context) {}); err != workerpool.ErrClosed {
		t.Fatalf("Submit after Close = %v, want ErrClosed", err)
	}
	task := workerpool.Go(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
	if _, err := task.Wait(t.Context()); err != workerpool.ErrClosed {
		t.Fatalf("Go after Close: Wait() = %v, want ErrClosed", err)
	}
	if err := p.Close(t.Context()); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestCloseHard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		running := workerpool.Go(context.Background(), p, func(ctx context.Context) (int, error) {
			<-ctx.Done() // only the hard Close ends it
			return 0, ctx.Err()
		})
		queued := workerpool.Go(context.Background(), p, func(context.Context) (int, error) {
			t.Error("a queued task ran after a hard Close")
			return 0, nil
		})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Close(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Close = %v, want DeadlineExceeded", err)
		}
		if _, err := running.Wait(t.Context()); err != context.Canceled {
			t.Fatalf("running task: %v, want its context cancelled", err)
		}
		if _, err := queued.Wait(t.Context()); !errors.Is(err, workerpool.ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("queued task: %v, want ErrCanceled wrapping the Close context's error", err)
		}
		if s := p.Stats(); s.Workers != 0 || s.Canceled != 1 || s.Failed != 1 {
			t.Fatalf("after a hard Close: %+v", s)
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
		p.Close(t.Context())
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
		p.Close(t.Context())
	})
}

func TestStatsQueueWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		for range 64 {
			p.Submit(t.Context(), func(context.Context) { time.Sleep(time.Millisecond) })
		}
		p.Close(t.Context())
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
		p.Close(t.Context())
		g, _ = workerpool.NewGroup(t.Context(), p)
		g.Go(func(context.Context) error { return nil })
		if err := g.Wait(); err != workerpool.ErrClosed {
			t.Fatalf("Group on a closed pool: Wait() = %v, want ErrClosed", err)
		}
	})
}

// A hard Close cancels a Group's running tasks and ends its queued ones, so
// that Wait returns.
func TestGroupCloseHard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &workerpool.Pool{Size: 1}
		g, gctx := workerpool.NewGroup(t.Context(), p)
		g.Go(func(ctx context.Context) error {
			<-ctx.Done() // only the hard Close ends it
			return nil
		})
		g.Go(func(context.Context) error {
			t.Error("a queued group task ran after a hard Close")
			return nil
		})
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		p.Close(ctx)
		err := g.Wait()
		if !errors.Is(err, workerpool.ErrClosed) && !errors.Is(err, workerpool.ErrCanceled) {
			t.Fatalf("Wait() = %v, want the hard Close's error", err)
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
		p.Close(t.Context())
	})
}
