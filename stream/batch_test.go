package stream_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nodekit/nodekit/stream"
)

func TestBatch(t *testing.T) {
	for _, tc := range []struct {
		items, n int
		want     [][]int
	}{
		{0, 3, nil},
		{1, 3, [][]int{{0}}},
		{3, 3, [][]int{{0, 1, 2}}},
		{7, 3, [][]int{{0, 1, 2}, {3, 4, 5}, {6}}},
		{3, 1, [][]int{{0}, {1}, {2}}},
	} {
		got, err := collect(t, stream.Batch(count(tc.items), tc.n))
		if diff := cmp.Diff(tc.want, got); diff != "" || err != nil {
			t.Errorf("Batch(count(%d), %d): %v (-want +got):\n%s", tc.items, tc.n, err, diff)
		}
	}
	// The values before an error come in a batch, then the error.
	src := stream.Generate(func(yield func(int) bool) error {
		for i := range 5 {
			yield(i)
		}
		return errSource
	})
	got, err := collect(t, stream.Batch(src, 2))
	if diff := cmp.Diff([][]int{{0, 1}, {2, 3}, {4}}, got); diff != "" || err != errSource {
		t.Errorf("Batch of a failing stream: %v (-want +got):\n%s", err, diff)
	}
	// Each batch is its own slice: appending to one does not touch the next.
	var kept [][]int
	for b := range stream.Batch(count(6), 2) {
		kept = append(kept, b)
	}
	_ = append(kept[0], 99)
	if diff := cmp.Diff([][]int{{0, 1}, {2, 3}, {4, 5}}, kept); diff != "" {
		t.Errorf("batches changed after an append to the first (-want +got):\n%s", diff)
	}
}

// timed returns a Stream of 0..len(gaps)-1 where value i comes gaps[i]
// after the one before.
func timed(gaps ...time.Duration) stream.Stream[int] {
	return stream.Generate(func(yield func(int) bool) error {
		for i, g := range gaps {
			time.Sleep(g)
			if !yield(i) {
				return nil
			}
		}
		return nil
	})
}

// A batch goes out at n values or d after its first value, whichever comes
// first; the end of the source sends what is left.
func TestBatchTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		start := time.Now()
		type out struct {
			batch []int
			at    time.Duration
		}
		var got []out
		// 0,1,2 at once (full at n=3); 3 at 10ms, 4 at 60ms (3's batch goes
		// at 10+100=110ms with 4 in it); 5 at 300ms, alone until the end at
		// 310ms.
		s := stream.BatchTimeout(t.Context(), timed(0, 0, 0, 10*ms, 50*ms, 240*ms, 10*ms), 3, 100*ms)
		for b, err := range s {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out{b, time.Since(start)})
		}
		want := []out{
			{[]int{0, 1, 2}, 0},
			{[]int{3, 4}, 110 * ms},
			{[]int{5, 6}, 310 * ms},
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(out{})); diff != "" {
			t.Errorf("batches and times (-want +got):\n%s", diff)
		}
	})
}

// BatchTimeout: a source error comes after a batch of the values before
// it; the end of ctx ends the stream with ctx.Err() (the batch being
// filled is dropped); breaking stops the goroutine that reads the source.
func TestBatchTimeoutEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := stream.Generate(func(yield func(int) bool) error {
			yield(1)
			yield(2)
			return errSource
		})
		got, err := collect(t, stream.BatchTimeout(t.Context(), src, 10, time.Second))
		if diff := cmp.Diff([][]int{{1, 2}}, got); diff != "" || err != errSource {
			t.Errorf("a failing source: %v (-want +got):\n%s", err, diff)
		}

		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		got, err = collect(t, stream.BatchTimeout(ctx, timed(0, 10*time.Millisecond, time.Hour), 10, time.Second))
		if len(got) != 0 || err != context.DeadlineExceeded {
			t.Errorf("ctx ends with a partial batch: %v, %v; want nothing, context.DeadlineExceeded", got, err)
		}

		for b := range stream.BatchTimeout(t.Context(), count(1_000_000), 10, time.Second) {
			if b[0] == 100 {
				break
			}
		}
		// synctest.Test fails if the reading goroutine is still blocked.

		ctx, cancel = context.WithCancel(t.Context())
		cancel()
		for range 100 {
			got, err = collect(t, stream.BatchTimeout(ctx, count(10), 2, time.Second))
			if len(got) != 0 || err != context.Canceled {
				t.Fatalf("an ended ctx: %v, %v; want nothing, context.Canceled", got, err)
			}
		}
	})
}

// A panic or runtime.Goexit in the source's stages, which run on
// BatchTimeout's reading goroutine, ends the stream with a *PanicError or
// ErrGoexit, after a batch of the values before it.
func TestBatchTimeoutSourcePanicAndGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, exit := range []bool{false, true} {
			src := stream.Map(count(10), func(x int) (int, error) {
				if x == 3 {
					if exit {
						runtime.Goexit()
					}
					panic("batch source boom")
				}
				return x, nil
			})
			got, err := collect(t, stream.BatchTimeout(t.Context(), src, 10, time.Second))
			var pe *stream.PanicError
			if exit && !errors.Is(err, stream.ErrGoexit) || !exit && (!errors.As(err, &pe) || pe.Value != "batch source boom") {
				t.Errorf("exit=%v: err = %v", exit, err)
			}
			if diff := cmp.Diff([][]int{{0, 1, 2}}, got); diff != "" {
				t.Errorf("exit=%v: batches before the end (-want +got):\n%s", exit, diff)
			}
		}
	})
}

// A consumer that panics or calls runtime.Goexit in its loop body stops
// BatchTimeout's reading goroutine as a break does.
func TestBatchTimeoutConsumerPanicAndGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, exit := range []bool{false, true} {
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer func() {
					if v := recover(); !exit && v != "consumer boom" {
						t.Errorf("recovered %v, want the consumer's panic", v)
					}
				}()
				for range stream.BatchTimeout(context.Background(), count(1000), 3, time.Second) {
					if exit {
						runtime.Goexit()
					}
					panic("consumer boom")
				}
			}()
			<-done
		}
		// synctest.Test fails if the reading goroutine is left blocked.
	})
}
