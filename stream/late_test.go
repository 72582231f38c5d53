package stream_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nodekit/nodekit/internal/leaktest"
	"github.com/nodekit/nodekit/stream"
)

// rangeAndRecover ranges s, breaking at its first value once started is
// closed (if not nil), and returns what the range statement panicked with.
func rangeAndRecover(s stream.Stream[int], started <-chan struct{}) (v any) {
	defer func() { v = recover() }()
	for range s {
		if started != nil {
			<-started
		}
		break
	}
	return nil
}

// A panic that can no longer be the stream's error (it happens after the
// consumer broke out, while the operator winds down) is not swallowed: the
// range statement re-raises it, once every goroutine has exited.
func TestLatePanicsAreReraised(t *testing.T) {
	leaktest.Check(t)
	ctx := context.Background()
	var started chan struct{} // closed when element 1 is inside fn
	lateFn := func(ctx context.Context, x int) (int, error) {
		if x == 1 {
			close(started)
			<-ctx.Done()
			panic("late fn boom")
		}
		return x, nil
	}
	// A source that panics in its cleanup, once yield has returned false.
	lateSource := func() stream.Stream[int] {
		return stream.Generate(func(yield func(int) bool) error {
			for i := 0; ; i++ {
				if !yield(i) {
					panic("late source boom")
				}
			}
		})
	}
	for name, tc := range map[string]struct {
		s    stream.Stream[int]
		wait bool
		want string
	}{
		"MapConcurrent fn":        {stream.MapConcurrent(ctx, count(10), 2, lateFn), true, "late fn boom"},
		"MapConcurrent unordered": {stream.MapConcurrent(ctx, count(10), 2, lateFn, stream.Unordered()), true, "late fn boom"},
		"MapConcurrent source":    {stream.MapConcurrent(ctx, lateSource(), 2, func(_ context.Context, x int) (int, error) { return x, nil }), false, "late source boom"},
		"BatchTimeout source": {stream.FlatMap(stream.BatchTimeout(ctx, lateSource(), 1, time.Hour), func(b []int) stream.Stream[int] {
			return stream.FromSlice(b)
		}), false, "late source boom"},
	} {
		started = make(chan struct{})
		var wait <-chan struct{}
		if tc.wait {
			wait = started
		}
		v := rangeAndRecover(tc.s, wait)
		var pe *stream.PanicError
		if err, _ := v.(error); !errors.As(err, &pe) || pe.Value != tc.want {
			t.Errorf("%s: the range statement panicked with %v, want a *PanicError with %q", name, v, tc.want)
		}
	}
}

// Generate's yield kept past the range does nothing and reports false.
func TestGenerateKeptYield(t *testing.T) {
	var kept func(int) bool
	s := stream.Generate(func(yield func(int) bool) error {
		kept = yield
		yield(1)
		return nil
	})
	if err := stream.Drain(s); err != nil {
		t.Fatal(err)
	}
	if kept(2) {
		t.Error("a kept yield reported true after its range ended")
	}
}
