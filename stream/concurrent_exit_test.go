package stream_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/stream"
)

// The source is never more than n+k elements ahead of what the consumer
// has taken: with a consumer that holds the first result, exactly 1+n+k
// elements are taken from the source (2n with the default k = n-1, as
// Node's readable.map), and fn has run for n+k of them at most.
func TestMapConcurrentWindow(t *testing.T) {
	for _, tc := range []struct {
		n, k      int // k -1: the default
		unordered bool
	}{
		{1, -1, false}, {2, -1, false}, {4, -1, false}, {4, 0, false}, {3, 5, false},
		{1, -1, true}, {4, -1, true}, {2, 3, true},
	} {
		synctest.Test(t, func(t *testing.T) {
			var opts []stream.Option
			window := 2*tc.n - 1
			if tc.k >= 0 {
				opts = append(opts, stream.HighWaterMark(tc.k))
				window = tc.n + tc.k
			}
			if tc.unordered {
				opts = append(opts, stream.Unordered())
			}
			var produced atomic.Int64
			src := stream.Tap(count(1000), func(int) { produced.Add(1) })
			s := stream.MapConcurrent(t.Context(), src, tc.n, func(_ context.Context, x int) (int, error) { return x, nil }, opts...)
			for range s {
				synctest.Wait() // everything that can run without the consumer has
				if got, want := produced.Load(), int64(1+window); got != want {
					t.Errorf("n=%d k=%d unordered=%v: %d elements taken from the source while the consumer holds the first, want %d",
						tc.n, tc.k, tc.unordered, got, want)
				}
				break
			}
		})
	}
}

// A panic in fn ends the stream at its place with a *PanicError carrying
// the value and fn's stack; the results before it come first.
func TestMapConcurrentPanic(t *testing.T) {
	leaktest.Check(t)
	for _, unordered := range []bool{false, true} {
		var opts []stream.Option
		if unordered {
			opts = append(opts, stream.Unordered())
		}
		got, err := collect(t, stream.MapConcurrent(t.Context(), count(100), 1, func(_ context.Context, x int) (int, error) {
			if x == 3 {
				panicInFn(x)
			}
			return x, nil
		}, opts...))
		var pe *stream.PanicError
		if !errors.As(err, &pe) || pe.Value != "boom at 3" {
			t.Fatalf("unordered=%v: err = %v, want a *PanicError with value %q", unordered, err, "boom at 3")
		}
		if !strings.Contains(string(pe.Stack), "panicInFn") {
			t.Errorf("the PanicError's stack does not show the panicking function:\n%s", pe.Stack)
		}
		if diff := cmp.Diff([]int{0, 1, 2}, got); diff != "" {
			t.Errorf("unordered=%v: results before the panic (-want +got):\n%s", unordered, diff)
		}
	}
}

func panicInFn(x int) {
	panic("boom at " + string(rune('0'+x)))
}

// A runtime.Goexit in fn (t.FailNow on a worker) ends the stream at its
// place with ErrGoexit, and the worker is replaced: with one worker and
// every call exiting, the stream still ends.
func TestMapConcurrentGoexit(t *testing.T) {
	leaktest.Check(t)
	got, err := collect(t, stream.MapConcurrent(t.Context(), count(100), 2, func(_ context.Context, x int) (int, error) {
		if x == 5 {
			runtime.Goexit()
		}
		return x, nil
	}))
	if !errors.Is(err, stream.ErrGoexit) || len(got) != 5 {
		t.Fatalf("Goexit at 5: got %v, %v; want [0..4], ErrGoexit", got, err)
	}
	for _, n := range []int{1, 3} {
		for _, unordered := range []bool{false, true} {
			var opts []stream.Option
			if unordered {
				opts = append(opts, stream.Unordered())
			}
			var calls atomic.Int64
			err := stream.ForEachConcurrent(t.Context(), count(50), n, func(context.Context, int) error {
				calls.Add(1)
				runtime.Goexit()
				return nil
			}, opts...)
			if !errors.Is(err, stream.ErrGoexit) {
				t.Fatalf("n=%d unordered=%v, every call exits: err = %v, want ErrGoexit", n, unordered, err)
			}
		}
	}
}

// The source's stages run on the operator's reader goroutine: their panic
// or runtime.Goexit is the stream's error, after the results of the
// elements taken before.
func TestMapConcurrentSourcePanicAndGoexit(t *testing.T) {
	leaktest.Check(t)
	for _, exit := range []bool{false, true} {
		src := stream.Map(count(10), func(x int) (int, error) {
			if x == 4 {
				if exit {
					runtime.Goexit()
				}
				panic("source boom")
			}
			return x, nil
		})
		got, err := collect(t, stream.MapConcurrent(t.Context(), src, 3, func(_ context.Context, x int) (int, error) { return x, nil }))
		var pe *stream.PanicError
		switch {
		case exit && !errors.Is(err, stream.ErrGoexit),
			!exit && (!errors.As(err, &pe) || pe.Value != "source boom"):
			t.Errorf("exit=%v: err = %v", exit, err)
		}
		if diff := cmp.Diff([]int{0, 1, 2, 3}, got); diff != "" {
			t.Errorf("exit=%v: results before the source's end (-want +got):\n%s", exit, diff)
		}
	}
}

// A consumer that panics or calls runtime.Goexit in its loop body stops
// the operator as a break does: the panic goes on up, and every goroutine
// has exited.
func TestMapConcurrentConsumerPanicAndGoexit(t *testing.T) {
	leaktest.Check(t)
	for _, unordered := range []bool{false, true} {
		var opts []stream.Option
		if unordered {
			opts = append(opts, stream.Unordered())
		}
		func() {
			defer func() {
				if v := recover(); v != "consumer boom" {
					t.Errorf("recovered %v, want the consumer's panic", v)
				}
			}()
			for v := range stream.MapConcurrent(t.Context(), count(1000), 4, func(_ context.Context, x int) (int, error) { return x, nil }, opts...) {
				if v == 10 {
					panic("consumer boom")
				}
			}
		}()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for v := range stream.MapConcurrent(context.Background(), count(1000), 4, func(_ context.Context, x int) (int, error) { return x, nil }, opts...) {
				if v == 10 {
					runtime.Goexit()
				}
			}
			t.Error("the loop went on after runtime.Goexit")
		}()
		<-done
	}
}

// Breaking out of the loop cancels the context of the running calls and
// returns only once they have returned.
func TestMapConcurrentBreakWaitsForCalls(t *testing.T) {
	leaktest.Check(t)
	var running, returned atomic.Int64
	started := make(chan struct{}, 10)
	for v := range stream.MapConcurrent(t.Context(), count(100), 4, func(ctx context.Context, x int) (int, error) {
		if x == 0 {
			return x, nil
		}
		running.Add(1)
		started <- struct{}{}
		<-ctx.Done()
		returned.Add(1)
		return x, ctx.Err()
	}, stream.Unordered()) {
		_ = v
		for range 3 {
			<-started // the three other workers are inside fn
		}
		break
	}
	if r, d := running.Load(), returned.Load(); r < 3 || d != r {
		t.Fatalf("after break: %d calls started, %d returned; want at least 3, all returned", r, d)
	}
}

// An ended ctx gives the same answer every time: the stream's only element
// is ctx.Err(), fn never runs, nothing is taken from the source.
func TestConcurrentEndedContext(t *testing.T) {
	leaktest.Check(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 200 {
		taken := false
		src := stream.Tap(count(10), func(int) { taken = true })
		got, err := collect(t, stream.MapConcurrent(ctx, src, 4, func(_ context.Context, x int) (int, error) {
			t.Error("fn ran with an ended context")
			return x, nil
		}))
		if len(got) != 0 || err != context.Canceled || taken {
			t.Fatalf("ended ctx: got %v, %v, source taken %v; want nothing, context.Canceled, false", got, err, taken)
		}
		if err := stream.ForEachConcurrent(ctx, count(10), 2, func(context.Context, int) error { return nil }); err != context.Canceled {
			t.Fatalf("ForEachConcurrent with an ended ctx = %v, want context.Canceled", err)
		}
	}
}

// ctx ending while the stream waits for a slow fn ends it with ctx.Err().
func TestConcurrentContextEndsWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		got, err := collect(t, stream.MapConcurrent(ctx, count(10), 2, func(ctx context.Context, x int) (int, error) {
			if x == 1 {
				<-ctx.Done()
				return 0, errors.New("fn's own error, after ctx ended")
			}
			return x, nil
		}))
		if diff := cmp.Diff([]int{0}, got); diff != "" || err != context.DeadlineExceeded {
			t.Fatalf("got %v, %v; want [0], context.DeadlineExceeded", got, err)
		}
	})
}

// ForEachConcurrent: in order, the error of the earliest failing element,
// as ForEach would report; unordered, the first to happen, which cancels
// the others (errgroup's behaviour).
func TestForEachConcurrentErrors(t *testing.T) {
	leaktest.Check(t)
	errA, errB := errors.New("element 2"), errors.New("element 7")
	synctest.Test(t, func(t *testing.T) {
		err := stream.ForEachConcurrent(t.Context(), count(20), 8, func(_ context.Context, x int) error {
			switch x {
			case 2:
				time.Sleep(time.Second)
				return errA
			case 7:
				return errB
			}
			return nil
		})
		if err != errA {
			t.Errorf("ordered: err = %v, want the earliest element's %v", err, errA)
		}
		var canceled atomic.Bool
		running := make(chan struct{})
		err = stream.ForEachConcurrent(t.Context(), count(20), 8, func(ctx context.Context, x int) error {
			switch x {
			case 2:
				close(running)
				<-ctx.Done()
				canceled.Store(true)
				return ctx.Err()
			case 7:
				<-running
				return errB
			}
			return nil
		}, stream.Unordered())
		if err != errB || !canceled.Load() {
			t.Errorf("unordered: err = %v, slow element canceled = %v; want %v, true", err, canceled.Load(), errB)
		}
	})
}
